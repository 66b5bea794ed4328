fn main() -> Result<(), Box<dyn std::error::Error>> {
    go_plugin_build::compile(&["proto/calc.proto"], &["proto"])
}
