//! A TFLint ruleset in Rust: `rust` (install as `tflint-ruleset-rust` in `TFLINT_PLUGIN_DIR`, enable
//! with `plugin "rust" { enabled = true }` in `.tflint.hcl`). Two rules:
//!
//! - `rust_resource_name_snake_case` (warning, on by default): a resource's name must be
//!   snake_case; the issue points at the name label.
//! - `rust_required_tags` (notice, off by default): every resource of the configured `types` has a
//!   `tags` map with the configured keys:
//!
//!   ```hcl
//!   rule "rust_required_tags" {
//!     enabled = true
//!     types   = ["aws_instance"]
//!     tags    = ["Name", "Owner"]
//!   }
//!   ```
//!
//!   A resource without `tags` gets an issue at its `resource "..." "..."` line, one with keys
//!   missing at its `tags` value.

use go_plugin::tonic::async_trait;
use go_plugin_terraform::{Type, Value};
use go_plugin_tflint::proto::BodyContent;
use go_plugin_tflint::{serve, Rule, RuleSet, Runner, Severity};

struct SnakeCaseNames;

fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[async_trait]
impl Rule for SnakeCaseNames {
    fn name(&self) -> &str {
        "rust_resource_name_snake_case"
    }

    fn severity(&self) -> Severity {
        Severity::Warning
    }

    async fn check(&self, runner: &Runner) -> Result<(), String> {
        for resource in runner
            .resources(None, &[])
            .await
            .map_err(|e| e.message().to_string())?
        {
            if !is_snake_case(&resource.name) {
                let message = format!("resource name \"{}\" must be snake_case", resource.name);
                let range = resource.label_ranges.get(1).unwrap_or(&resource.def_range);
                runner
                    .emit(self, message, range)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

struct RequiredTags;

/// The strings of the list `attribute` of the rule's configuration, or why it is not one.
async fn strings(
    runner: &Runner,
    config: &BodyContent,
    attribute: &str,
) -> Result<Vec<String>, String> {
    let Some(attr) = config.attributes.get(attribute) else {
        return Ok(Vec::new());
    };
    let expression = attr.expression.as_ref().ok_or("no expression")?;
    let value = runner
        .evaluate(expression, &Type::Dynamic)
        .await
        .map_err(|e| e.message().to_string())?;
    let items = match &value {
        Value::Dynamic(_, inner) => match inner.as_ref() {
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => items.clone(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let strings: Option<Vec<String>> = items.iter().map(|v| v.as_str().map(String::from)).collect();
    match strings {
        Some(strings) if !items.is_empty() => Ok(strings),
        _ => Err(format!(
            "\"{attribute}\" must be a list of strings, like [\"Name\"]"
        )),
    }
}

#[async_trait]
impl Rule for RequiredTags {
    fn name(&self) -> &str {
        "rust_required_tags"
    }

    fn enabled_by_default(&self) -> bool {
        false
    }

    fn severity(&self) -> Severity {
        Severity::Notice
    }

    async fn check(&self, runner: &Runner) -> Result<(), String> {
        let config = runner
            .rule_config(self.name(), &["types", "tags"])
            .await
            .map_err(|e| e.message().to_string())?;
        let (types, required) = (
            strings(runner, &config, "types").await?,
            strings(runner, &config, "tags").await?,
        );
        for resource_type in &types {
            let resources = runner
                .resources(Some(resource_type), &["tags"])
                .await
                .map_err(|e| e.message().to_string())?;
            for resource in resources {
                let Some(tags) = resource.body.attributes.get("tags") else {
                    let message = format!(
                        "{resource_type}.{} has no tags; required: {}",
                        resource.name,
                        required.join(", ")
                    );
                    runner
                        .emit(self, message, &resource.def_range)
                        .await
                        .map_err(|e| e.to_string())?;
                    continue;
                };
                let expression = tags.expression.clone().unwrap_or_default();
                let value = runner
                    .evaluate(&expression, &Type::map(Type::String))
                    .await
                    .map_err(|e| e.message().to_string())?;
                let Value::Map(present) = value else { continue }; // unknown or null: nothing to say yet
                let missing: Vec<&str> = required
                    .iter()
                    .map(String::as_str)
                    .filter(|k| !present.contains_key(*k))
                    .collect();
                if !missing.is_empty() {
                    let message = format!(
                        "tags of {resource_type}.{} miss: {}",
                        resource.name,
                        missing.join(", ")
                    );
                    let range = expression.range.clone().unwrap_or_default();
                    runner
                        .emit(self, message, &range)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let ruleset = RuleSet::new("rust", env!("CARGO_PKG_VERSION"))
        .rule(SnakeCaseNames)
        .rule(RequiredTags);
    serve(ruleset).await
}
