//! Compiles TFLint's plugin protocol from the project's own schema file (`proto/tflint.proto`)
//! with go-plugin-build: neither Go, nor network, nor `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    go_plugin_build::compile(&["proto/tflint.proto"], &["proto"])
}
