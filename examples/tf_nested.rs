//! Provider `rustjson` (`registry.terraform.io/gopluginrs/rustjson`): nested attributes and nested
//! blocks from `#[derive(Schema)]` models, on the SDK of `go-plugin-terraform`, over protocol 6
//! and 5 (`RUSTJSON_PROTOCOL=5` offers only 5; protocol 5 carries nested attributes as object
//! types). Resource `rustjson_document` writes its configuration to `path` as JSON.

use std::collections::{BTreeMap, BTreeSet};

use go_plugin_terraform::sdk::{self, Diagnostics, MaybeUnknown, OrError, Provider, Resource};
use go_plugin_terraform::sdk::{Schema, Validator};
use serde::{Deserialize, Serialize};

fn port() -> Validator {
    Validator::custom("a port", |port, _| match port.as_i64() {
        Some(1..=65535) => Ok(()),
        Some(p) => Err(format!("must be a port from 1 to 65535, got {p}")),
        None => Err("must be a whole number, a port from 1 to 65535".into()),
    })
}

/// A rule: what may reach a port.
#[derive(Serialize, Deserialize, Schema)]
struct Rule {
    /// The port.
    #[schema(validate = port())]
    port: i64,
    /// `tcp` or `udp`.
    #[schema(validate = Validator::one_of(&["tcp", "udp"]))]
    protocol: String,
}

/// Where traffic may come from.
#[derive(Serialize, Deserialize, Schema, PartialEq, Eq, PartialOrd, Ord)]
struct Source {
    cidr: String,
}

/// A person.
#[derive(Serialize, Deserialize, Schema)]
struct Person {
    name: String,
    email: Option<String>,
}

/// A note (a `note { }` block).
#[derive(Serialize, Deserialize, Schema)]
struct Note {
    text: String,
}

/// A JSON document of nested values.
#[derive(Serialize, Deserialize, Schema)]
struct Document {
    /// Where the document is written; a new path replaces it.
    #[schema(requires_replace)]
    path: String,
    /// A list nested attribute.
    rules: Vec<Rule>,
    /// A set nested attribute.
    sources: Option<BTreeSet<Source>>,
    /// A single nested attribute.
    owner: Option<Person>,
    /// A map nested attribute.
    deputies: Option<BTreeMap<String, Person>>,
    /// A map of strings.
    labels: Option<BTreeMap<String, String>>,
    #[schema(block)]
    note: Vec<Note>,
    /// SHA-256 of the written JSON, in hex.
    #[schema(computed)]
    sha256: MaybeUnknown<String>,
}

/// What is written: the document without its hash.
fn body(document: &Document) -> Result<String, Diagnostics> {
    let mut json = serde_json::to_value(document).or_error("Unencodable document")?;
    if let Some(fields) = json.as_object_mut() {
        fields.remove("sha256");
    }
    serde_json::to_string_pretty(&json).or_error("Unencodable document")
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

struct Documents;

impl Resource<()> for Documents {
    type Model = Document;

    async fn create(&self, _: &(), mut plan: Document) -> Result<Document, Diagnostics> {
        let body = body(&plan)?;
        std::fs::write(&plan.path, &body).or_error(format!("Could not write {}", plan.path))?;
        plan.sha256 = sha256_hex(body.as_bytes()).into();
        Ok(plan)
    }

    async fn read(&self, _: &(), state: Document) -> Result<Option<Document>, Diagnostics> {
        Ok(std::path::Path::new(&state.path).exists().then_some(state))
    }

    async fn update(
        &self,
        client: &(),
        _: Document,
        plan: Document,
    ) -> Result<Document, Diagnostics> {
        self.create(client, plan).await
    }

    async fn delete(&self, _: &(), state: Document) -> Result<(), Diagnostics> {
        std::fs::remove_file(&state.path).or_error(format!("Could not delete {}", state.path))
    }
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let provider = Provider::without_config("rustjson").resource("document", Documents);
    let only = std::env::var("RUSTJSON_PROTOCOL").ok();
    let protocols = only
        .and_then(|p| p.parse().ok())
        .map_or(vec![5, 6], |p| vec![p]);
    sdk::serve_protocols(
        "registry.terraform.io/gopluginrs/rustjson",
        provider,
        &protocols,
    )
    .await
}
