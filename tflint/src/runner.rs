//! The ruleset's view of TFLint during a check: the Runner service TFLint serves through the
//! broker, with the questions rules ask most (resources, expression values, rule configuration)
//! as methods, and issues emitted with exact ranges.

use go_plugin::tonic::transport::Channel;
use go_plugin::tonic::Status;
use go_plugin_terraform::{msgpack, Type, Value};

use crate::proto::body_schema::{Attribute as SchemaAttribute, Block as SchemaBlock};
use crate::proto::emit_issue::Rule as IssueRule;
use crate::proto::get_module_content::{ExpandMode, Hint, Option as ContentOption};
use crate::proto::runner_client::RunnerClient;
use crate::proto::{
    emit_issue, evaluate_expr, get_module_content, get_rule_config_content, BodyContent,
    BodySchema, Expression, ModuleCtxType, Range, SchemaMode,
};
use crate::ruleset::Rule;

/// TFLint's Runner, for the rules of one check.
#[derive(Clone, Debug)]
pub struct Runner {
    client: RunnerClient<Channel>,
}

/// One `resource "<type>" "<name>" { ... }` block of the module.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Its type (first label).
    pub type_name: String,
    /// Its name (second label).
    pub name: String,
    /// The attributes asked for, those that are set.
    pub body: BodyContent,
    /// `resource "<type>" "<name>"`: where TFLint points for the whole block.
    pub def_range: Range,
    /// Where each label is.
    pub label_ranges: Vec<Range>,
}

fn schema(attributes: &[&str]) -> BodySchema {
    BodySchema {
        attributes: attributes
            .iter()
            .map(|name| SchemaAttribute {
                name: name.to_string(),
                required: false,
            })
            .collect(),
        blocks: Vec::new(),
        mode: SchemaMode::Default as i32,
    }
}

impl Runner {
    pub(crate) fn new(channel: Channel) -> Runner {
        Runner {
            client: RunnerClient::new(channel),
        }
    }

    /// The module's content as `schema` extracts it (resources expanded by `count`/`for_each`,
    /// as the SDK's rules see them).
    pub async fn module_content(
        &self,
        schema: BodySchema,
        resource_type: Option<&str>,
    ) -> Result<BodyContent, Status> {
        let option = ContentOption {
            module_ctx: ModuleCtxType::Self_ as i32,
            hint: resource_type.map(|t| Hint {
                resource_type: t.to_string(),
            }),
            expand_mode: ExpandMode::Expand as i32,
        };
        let request = get_module_content::Request {
            schema: Some(schema),
            option: Some(option),
        };
        let response = self.client.clone().get_module_content(request).await?;
        Ok(response.into_inner().content.unwrap_or_default())
    }

    /// Every resource of the module (of `resource_type` only, when given), with the attributes
    /// named in `attributes`.
    pub async fn resources(
        &self,
        resource_type: Option<&str>,
        attributes: &[&str],
    ) -> Result<Vec<Resource>, Status> {
        let schema = BodySchema {
            blocks: vec![SchemaBlock {
                r#type: "resource".into(),
                label_names: vec!["type".into(), "name".into()],
                body: Some(schema(attributes)),
            }],
            ..schema(&[])
        };
        let content = self.module_content(schema, resource_type).await?;
        Ok(content
            .blocks
            .into_iter()
            .filter(|b| b.r#type == "resource" && b.labels.len() == 2)
            .filter(|b| resource_type.is_none_or(|t| b.labels[0] == t))
            .map(|b| Resource {
                type_name: b.labels[0].clone(),
                name: b.labels[1].clone(),
                body: b.body.unwrap_or_default(),
                def_range: b.def_range.unwrap_or_default(),
                label_ranges: b.label_ranges,
            })
            .collect())
    }

    /// The value of `expression` as type `ty` (`Type::Dynamic` for whatever it is), evaluated by
    /// TFLint in the module's context. Unknown values (variables without values, say) come back
    /// unknown.
    pub async fn evaluate(&self, expression: &Expression, ty: &Type) -> Result<Value, Status> {
        let request = evaluate_expr::Request {
            option: Some(evaluate_expr::Option {
                r#type: ty.to_json().to_string().into_bytes(),
                module_ctx: ModuleCtxType::Self_ as i32,
            }),
            expression: Some(expression.clone()),
        };
        let value = self
            .client
            .clone()
            .evaluate_expr(request)
            .await?
            .into_inner()
            .value;
        msgpack::decode(&value, ty).map_err(|e| Status::internal(format!("TFLint's value: {e}")))
    }

    /// The attributes named in `attributes` of the rule's `rule "<name>" { ... }` block in
    /// `.tflint.hcl` (empty when it has none).
    pub async fn rule_config(
        &self,
        rule: &str,
        attributes: &[&str],
    ) -> Result<BodyContent, Status> {
        let request = get_rule_config_content::Request {
            name: rule.to_string(),
            schema: Some(schema(attributes)),
        };
        let response = self.client.clone().get_rule_config_content(request).await?;
        Ok(response.into_inner().content.unwrap_or_default())
    }

    /// Reports an issue of `rule` at `range`.
    pub async fn emit(
        &self,
        rule: &dyn Rule,
        message: impl Into<String>,
        range: &Range,
    ) -> Result<(), Status> {
        let request = emit_issue::Request {
            rule: Some(IssueRule {
                name: rule.name().to_string(),
                enabled: true,
                severity: rule.severity() as i32,
                link: rule.link().to_string(),
            }),
            message: message.into(),
            range: Some(range.clone()),
            fixable: false,
        };
        self.client.clone().emit_issue(request).await?;
        Ok(())
    }
}
