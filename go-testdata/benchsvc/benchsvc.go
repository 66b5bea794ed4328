// Package benchsvc is the bench.Bench gRPC service of `make bench`
// (proto/bench/bench.proto), written by hand: there is no protoc-gen-go here.
// The service descriptor below plays the part of generated code; the messages
// are generated types of google.golang.org/protobuf that are wire-identical to
// the ones in bench.proto (see the table there), so go-plugin's default proto
// codec carries them unchanged:
//
//	Payload         -> wrapperspb.BytesValue
//	DownloadRequest -> durationpb.Duration (Seconds = size, Nanos = chunk)
//	Count           -> wrapperspb.UInt64Value
//	BrokerId        -> wrapperspb.UInt32Value
package benchsvc

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Method paths on the wire.
const (
	EchoMethod     = "/bench.Bench/Echo"
	DownloadMethod = "/bench.Bench/Download"
	UploadMethod   = "/bench.Bench/Upload"
	DialBackMethod = "/bench.Bench/DialBack"
)

// Server is what a bench.Bench implementation provides.
type Server interface {
	Echo(context.Context, *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error)
	// Download sends the chunks with send.
	Download(req *durationpb.Duration, send func(*wrapperspb.BytesValue) error) error
	// Upload receives chunks with recv until io.EOF and returns the count.
	Upload(recv func(*wrapperspb.BytesValue) error) (*wrapperspb.UInt64Value, error)
	DialBack(context.Context, *wrapperspb.UInt32Value) (*wrapperspb.UInt64Value, error)
}

// ServiceDesc registers a Server on a grpc.Server, as generated code would.
var ServiceDesc = grpc.ServiceDesc{
	ServiceName: "bench.Bench",
	HandlerType: (*Server)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Echo", Handler: echoHandler},
		{MethodName: "DialBack", Handler: dialBackHandler},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Download", Handler: downloadHandler, ServerStreams: true},
		{StreamName: "Upload", Handler: uploadHandler, ClientStreams: true},
	},
	Metadata: "bench/bench.proto",
}

func echoHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.BytesValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(Server).Echo(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: EchoMethod}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return srv.(Server).Echo(ctx, req.(*wrapperspb.BytesValue))
	})
}

func dialBackHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.UInt32Value)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(Server).DialBack(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: DialBackMethod}
	return interceptor(ctx, in, info, func(ctx context.Context, req any) (any, error) {
		return srv.(Server).DialBack(ctx, req.(*wrapperspb.UInt32Value))
	})
}

func downloadHandler(srv any, stream grpc.ServerStream) error {
	in := new(durationpb.Duration)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	return srv.(Server).Download(in, func(m *wrapperspb.BytesValue) error { return stream.SendMsg(m) })
}

func uploadHandler(srv any, stream grpc.ServerStream) error {
	out, err := srv.(Server).Upload(func(m *wrapperspb.BytesValue) error { return stream.RecvMsg(m) })
	if err != nil {
		return err
	}
	return stream.SendMsg(out)
}

// Zeros serves Download and Upload the same way the Rust plugin does.
type Zeros struct{}

// MaxChunk is the largest chunk Download accepts (gRPC's default message limit is 4 MiB).
const MaxChunk = 4 << 20

// Download streams req.Seconds zero bytes in messages of req.Nanos bytes.
func (Zeros) Download(req *durationpb.Duration, send func(*wrapperspb.BytesValue) error) error {
	size, chunk := req.GetSeconds(), int64(req.GetNanos())
	if size < 0 || chunk < 1 || chunk > MaxChunk {
		return status.Errorf(codes.InvalidArgument, "Download needs size >= 0 and 1 <= chunk <= %d, got size %d, chunk %d", MaxChunk, size, chunk)
	}
	zeros := make([]byte, chunk)
	for sent := int64(0); sent < size; sent += chunk {
		n := min(chunk, size-sent)
		if err := send(&wrapperspb.BytesValue{Value: zeros[:n]}); err != nil {
			return err
		}
	}
	return nil
}

// Upload counts the bytes of a stream.
func (Zeros) Upload(recv func(*wrapperspb.BytesValue) error) (*wrapperspb.UInt64Value, error) {
	var total uint64
	for {
		m := new(wrapperspb.BytesValue)
		err := recv(m)
		if errors.Is(err, io.EOF) {
			return &wrapperspb.UInt64Value{Value: total}, nil
		}
		if err != nil {
			return nil, err
		}
		total += uint64(len(m.Value))
	}
}

// Echo returns its argument.
func Echo(_ context.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	return in, nil
}

// EchoOnly is what a host serves through the broker for DialBack.
type EchoOnly struct{ Zeros }

// Echo returns its argument.
func (EchoOnly) Echo(ctx context.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	return Echo(ctx, in)
}

// DialBack is not served by hosts.
func (EchoOnly) DialBack(context.Context, *wrapperspb.UInt32Value) (*wrapperspb.UInt64Value, error) {
	return nil, status.Error(codes.Unimplemented, "the host serves only Echo")
}

// Client calls bench.Bench over a connection.
type Client struct{ Conn grpc.ClientConnInterface }

// Echo calls Echo.
func (c Client) Echo(ctx context.Context, value []byte) error {
	out := new(wrapperspb.BytesValue)
	if err := c.Conn.Invoke(ctx, EchoMethod, &wrapperspb.BytesValue{Value: value}, out); err != nil {
		return err
	}
	if len(out.Value) != len(value) {
		return fmt.Errorf("Echo returned %d bytes, sent %d", len(out.Value), len(value))
	}
	return nil
}

// Download asks for size bytes in chunk-byte messages and returns how many arrived.
func (c Client) Download(ctx context.Context, size int64, chunk int32) (int64, error) {
	stream, err := c.Conn.NewStream(ctx, &ServiceDesc.Streams[0], DownloadMethod)
	if err != nil {
		return 0, err
	}
	if err := stream.SendMsg(&durationpb.Duration{Seconds: size, Nanos: chunk}); err != nil {
		return 0, err
	}
	if err := stream.CloseSend(); err != nil {
		return 0, err
	}
	var received int64
	for {
		m := new(wrapperspb.BytesValue)
		err := stream.RecvMsg(m)
		if errors.Is(err, io.EOF) {
			return received, nil
		}
		if err != nil {
			return received, err
		}
		received += int64(len(m.Value))
	}
}

// Upload sends size zero bytes in chunk-byte messages and returns the count the server saw.
func (c Client) Upload(ctx context.Context, size, chunk int64) (uint64, error) {
	stream, err := c.Conn.NewStream(ctx, &ServiceDesc.Streams[1], UploadMethod)
	if err != nil {
		return 0, err
	}
	zeros := make([]byte, chunk)
	for sent := int64(0); sent < size; sent += chunk {
		if err := stream.SendMsg(&wrapperspb.BytesValue{Value: zeros[:min(chunk, size-sent)]}); err != nil {
			return 0, err
		}
	}
	if err := stream.CloseSend(); err != nil {
		return 0, err
	}
	out := new(wrapperspb.UInt64Value)
	if err := stream.RecvMsg(out); err != nil {
		return 0, err
	}
	return out.Value, nil
}

// DialBack asks the plugin to dial broker id and returns the nanoseconds it reports.
func (c Client) DialBack(ctx context.Context, id uint32) (uint64, error) {
	out := new(wrapperspb.UInt64Value)
	if err := c.Conn.Invoke(ctx, DialBackMethod, &wrapperspb.UInt32Value{Value: id}, out); err != nil {
		return 0, err
	}
	return out.Value, nil
}
