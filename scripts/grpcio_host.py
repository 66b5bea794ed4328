"""A go-plugin host written on gRPC C-core (PyPI grpcio), as Python, Ruby, PHP and C++ hosts are.

Launches a KV plugin (in the current directory: go-plugin's KV plugins store each key in a file
there) the way go-plugin's hosts do (magic cookie BASIC_PLUGIN=hello, protocol
versions in PLUGIN_PROTOCOL_VERSIONS), reads its handshake line, opens a grpcio channel to the
announced Unix socket and calls proto.KV/Put and Get, plugin.GRPCStdio/StreamStdio and
plugin.GRPCController/Shutdown. Messages are encoded by hand (a few protobuf fields), so nothing
but grpcio is needed.

    python3 scripts/grpcio_host.py PLUGIN [--authority raw|default]

`default` leaves the authority to grpcio (since 1.57 the percent-encoded socket path); `raw` sets
the raw socket path, as grpc-java does. Prints one line per step; exits non-zero on any failure.
"""

import os
import subprocess
import sys

import grpc


def field_bytes(number, data):
    """One length-delimited protobuf field."""
    out = bytearray([number << 3 | 2])
    n = len(data)
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + data


def first_bytes_field(message):
    """The payload of field 1 of a message holding one length-delimited field (or b'')."""
    if not message:
        return b""
    i, n, shift = 1, 0, 0
    while True:
        b = message[i]
        n |= (b & 0x7F) << shift
        i += 1
        shift += 7
        if b < 0x80:
            return message[i : i + n]


def identity(b):
    return b


def main():
    plugin = sys.argv[1]
    authority = sys.argv[sys.argv.index("--authority") + 1] if "--authority" in sys.argv else "default"
    env = dict(os.environ, BASIC_PLUGIN="hello", PLUGIN_PROTOCOL_VERSIONS="1")
    env.pop("PLUGIN_CLIENT_CERT", None)
    proc = subprocess.Popen([plugin], env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode().strip()
        print("handshake:", line, flush=True)
        parts = line.split("|")
        if len(parts) < 5 or parts[2] != "unix" or parts[4] != "grpc":
            sys.exit("not a gRPC plugin on a Unix socket: %r" % line)
        path = parts[3]
        options = [("grpc.default_authority", path)] if authority == "raw" else []
        channel = grpc.insecure_channel("unix:" + path, options=options)
        grpc.channel_ready_future(channel).result(timeout=10)
        call = lambda method: channel.unary_unary(method, request_serializer=identity, response_deserializer=identity)
        call("/proto.KV/Put")(field_bytes(1, b"hello") + field_bytes(2, b"world"), timeout=10)
        print("put: ok", flush=True)
        got = first_bytes_field(call("/proto.KV/Get")(field_bytes(1, b"hello"), timeout=10))
        print("get:", got.decode().split("\n")[0], flush=True)
        # The stream stays open while the plugin runs and nothing is written: it must last until
        # the deadline. (A refused request fails at once, with INTERNAL.)
        stdio = channel.unary_stream(
            "/plugin.GRPCStdio/StreamStdio", request_serializer=identity, response_deserializer=identity
        )(b"", timeout=1)
        try:
            for _ in stdio:
                pass
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                raise
        print("stdio: stream open", flush=True)
        try:
            call("/plugin.GRPCController/Shutdown")(b"", timeout=10)
            print("shutdown: ok", flush=True)
        except grpc.RpcError as e:
            # A Go plugin may exit before its answer is written.
            if e.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            print("shutdown: connection closed by the exiting plugin", flush=True)
        proc.wait(timeout=10)
        print("plugin exited:", proc.returncode, flush=True)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
