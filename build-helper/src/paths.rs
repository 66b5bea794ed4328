//! Rewrites of generated code, pure functions over its text.
//!
//! prost writes `::prost::` paths and lets its configuration change them; tonic's generated
//! clients and servers write `tonic::` (and `use tonic::codegen::*`) with no such option. So that a
//! user's crate needs only `go-plugin` as a dependency, [`reroot`] points those paths at the
//! re-export, and [`client_impls`] adds what makes a generated client typed for the host
//! (`go_plugin::host::GrpcClient`).

/// `code` with every path that starts at crate `krate` (`krate::...`, not `other_krate::...`,
/// not `x::krate::...`) starting at `path` instead.
pub(crate) fn reroot(code: &str, krate: &str, path: &str) -> String {
    let needle = format!("{krate}::");
    let mut out = String::with_capacity(code.len() + code.len() / 8);
    let mut rest = code;
    while let Some(at) = rest.find(&needle) {
        let before = &rest[..at];
        let starts_a_path = before
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
        out.push_str(before);
        if starts_a_path {
            out.push_str(path);
            out.push_str("::");
        } else {
            out.push_str(&needle);
        }
        rest = &rest[at + needle.len()..];
    }
    out.push_str(rest);
    out
}

/// For each client tonic generated in `code` (`pub mod x_client { ... pub struct XClient<T> ...`),
/// an implementation of `go_plugin::host::GrpcClient` on its `Channel` form.
pub(crate) fn client_impls(code: &str) -> String {
    let mut impls = String::new();
    let mut module: Option<&str> = None;
    for line in code.lines().map(str::trim) {
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|rest| rest.strip_suffix(" {"))
        {
            module = name.ends_with("_client").then_some(name);
            continue;
        }
        let Some(module_name) = module else { continue };
        if let Some(client) = line
            .strip_prefix("pub struct ")
            .and_then(|rest| rest.strip_suffix("<T> {"))
        {
            impls.push_str(&format!(
                "\n/// Built by the host from the plugin's connection (`Host::client`).\n\
                 impl ::go_plugin::host::GrpcClient for {module_name}::{client}<::go_plugin::tonic::transport::Channel> {{\n    \
                 fn from_connection(connection: &::go_plugin::host::PluginConnection) -> Self {{\n        \
                 Self::new(connection.channel())\n    }}\n}}\n"
            ));
            module = None;
        }
    }
    impls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reroots_only_paths_that_start_at_the_crate() {
        let code = "use tonic::codegen::*;\n\
                    fn f() -> tonic::Status { x::tonic::y(); tonic_prost::ProstCodec; <T as tonic::client::GrpcService>::f(); notonic::a }";
        assert_eq!(
            reroot(code, "tonic", "::go_plugin::tonic"),
            "use ::go_plugin::tonic::codegen::*;\n\
             fn f() -> ::go_plugin::tonic::Status { x::tonic::y(); tonic_prost::ProstCodec; <T as ::go_plugin::tonic::client::GrpcService>::f(); notonic::a }"
        );
        assert_eq!(reroot("tonic::a", "tonic", "::t"), "::t::a");
        assert_eq!(reroot("no paths here", "tonic", "::t"), "no paths here");
    }

    #[test]
    fn implements_grpc_client_for_each_generated_client() {
        let code = "pub mod calculator_client {\n    use tonic::codegen::*;\n    \
                    #[derive(Debug, Clone)]\n    pub struct CalculatorClient<T> {\n        inner: T,\n    }\n}\n\
                    pub mod calculator_server {\n    pub struct CalculatorServer<T> {\n    }\n}\n\
                    pub mod operator_client {\n    pub struct OperatorClient<T> {\n    }\n}\n";
        let impls = client_impls(code);
        assert!(impls.contains("impl ::go_plugin::host::GrpcClient for calculator_client::CalculatorClient<::go_plugin::tonic::transport::Channel>"), "{impls}");
        assert!(
            impls.contains("for operator_client::OperatorClient<"),
            "{impls}"
        );
        assert!(!impls.contains("CalculatorServer"), "{impls}");
        assert_eq!(impls.matches("impl ").count(), 2);
    }
}
