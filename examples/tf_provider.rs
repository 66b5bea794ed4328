//! A Terraform provider in Rust on the SDK of `go-plugin-terraform`: provider `rustfile`
//! (`registry.terraform.io/gopluginrs/rustfile`), served over protocol 6 and 5 (`RUSTFILE_PROTOCOL=5`
//! offers only 5), with `-debug` to print `TF_REATTACH_PROVIDERS`.
//!
//! - resource `rustfile_file`: writes `content` to the absolute `path` (a new path replaces it);
//!   computes `id` and `sha256`; write-only `secret` goes to `<path>.secret`, never to state;
//!   import by path; state of schema version 0 (`filename` instead of `path`) is upgraded.
//! - data source `rustfile_file` and ephemeral resource `rustfile_content`: read a file.
//! - function `provider::rustfile::sha256(text)`.

use go_plugin_terraform::sdk::{self, error, Attr, Diagnostics, Function, MaybeUnknown as Maybe};
use go_plugin_terraform::sdk::{
    DataSource, EphemeralResource, Provider, Resource, Schema, Validator,
};
use go_plugin_terraform::{Type, Value};
use serde::{Deserialize, Serialize};
use tonic::async_trait;

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn absolute() -> Validator {
    Validator::custom("an absolute path", |path, _| match path {
        Value::String(p) if !p.starts_with('/') => Err(format!(
            "{p:?} is relative; give the full path of the file to manage."
        )),
        _ => Ok(()),
    })
    .summary("Path must be absolute")
}

fn io(action: &str, path: &str, e: std::io::Error) -> Diagnostics {
    error(format!("Could not {action} {path}"), e.to_string())
}

/// The file at `path`, or `None` if there is none.
fn read(path: &str) -> Result<Option<String>, Diagnostics> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path, e)),
    }
}

#[derive(Serialize, Deserialize)]
struct File {
    path: String,
    content: Maybe<String>,
    id: Maybe<String>,
    sha256: Maybe<String>,
    secret: Option<String>,
}

impl File {
    fn at(path: &str, content: String) -> File {
        let (id, sha256) = (
            path.to_string().into(),
            sha256_hex(content.as_bytes()).into(),
        );
        File {
            path: path.into(),
            content: content.into(),
            id,
            sha256,
            secret: None,
        }
    }
}

struct FileResource;

#[async_trait]
impl Resource<()> for FileResource {
    type Model = File;

    fn schema(&self) -> Schema {
        Schema::new()
            .version(1)
            .attr(
                Attr::string("path")
                    .required()
                    .requires_replace()
                    .validate(absolute()),
            )
            .attr(
                Attr::string("content")
                    .required()
                    .description("What the file holds."),
            )
            .attr(Attr::string("id").computed().use_state_for_unknown())
            .attr(Attr::string("sha256").computed())
            .attr(Attr::string("secret").optional().sensitive().write_only())
    }

    fn modify_plan(&self, _: Option<&File>, mut plan: File) -> Result<File, Diagnostics> {
        if let Maybe::Known(content) = &plan.content {
            plan.sha256 = sha256_hex(content.as_bytes()).into();
        }
        Ok(plan)
    }

    async fn create(&self, _: &(), plan: File) -> Result<File, Diagnostics> {
        let content = plan.content.known().cloned().unwrap_or_default();
        std::fs::write(&plan.path, &content).map_err(|e| io("write", &plan.path, e))?;
        tracing::info!(path = %plan.path, bytes = content.len(), "wrote file");
        if let Some(secret) = &plan.secret {
            let path = format!("{}.secret", plan.path);
            std::fs::write(&path, secret).map_err(|e| io("write", &path, e))?;
        }
        Ok(File::at(&plan.path, content))
    }

    async fn read(&self, _: &(), state: File) -> Result<Option<File>, Diagnostics> {
        Ok(read(&state.path)?.map(|content| File::at(&state.path, content)))
    }

    async fn update(&self, client: &(), _: File, plan: File) -> Result<File, Diagnostics> {
        self.create(client, plan).await
    }

    async fn delete(&self, _: &(), state: File) -> Result<(), Diagnostics> {
        let _ = std::fs::remove_file(format!("{}.secret", state.path));
        match std::fs::remove_file(&state.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("delete", &state.path, e)),
            _ => Ok(()),
        }
    }

    async fn import(&self, _: &(), id: &str) -> Result<File, Diagnostics> {
        let missing = || error("Cannot import a missing file", format!("no file at {id:?}"));
        read(id)?
            .map(|content| File::at(id, content))
            .ok_or_else(missing)
    }

    fn upgrade(&self, version: i64, mut state: serde_json::Value) -> Result<File, Diagnostics> {
        // Version 0 called the path `filename`.
        let path = state.get_mut("filename").map(serde_json::Value::take);
        match (version, path.as_ref().and_then(|p| p.as_str())) {
            (0, Some(path)) => Ok(File::at(
                path,
                state["content"].as_str().unwrap_or("").into(),
            )),
            _ => Err(error(
                "Unsupported state",
                format!("cannot upgrade version {version}"),
            )),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Contents {
    path: String,
    content: Maybe<String>,
    #[serde(default, skip_serializing_if = "Maybe::is_unknown")]
    id: Maybe<String>,
    #[serde(default, skip_serializing_if = "Maybe::is_unknown")]
    sha256: Maybe<String>,
}

fn contents(with_hash: bool) -> Schema {
    let schema = Schema::new()
        .attr(Attr::string("path").required().validate(absolute()))
        .attr(Attr::string("content").computed());
    match with_hash {
        true => schema
            .attr(Attr::string("id").computed())
            .attr(Attr::string("sha256").computed()),
        false => schema,
    }
}

fn read_contents(config: Contents, with_hash: bool) -> Result<Contents, Diagnostics> {
    let content = read(&config.path)?
        .ok_or_else(|| error("File not found", format!("no file at {:?}", config.path)))?;
    let file = File::at(&config.path, content);
    let (id, sha256) = match with_hash {
        true => (file.id, file.sha256),
        false => (Maybe::Unknown, Maybe::Unknown),
    };
    Ok(Contents {
        path: config.path,
        content: file.content,
        id,
        sha256,
    })
}

struct FileData;

#[async_trait]
impl DataSource<()> for FileData {
    type Model = Contents;
    fn schema(&self) -> Schema {
        contents(true)
    }
    async fn read(&self, _: &(), config: Contents) -> Result<Contents, Diagnostics> {
        read_contents(config, true)
    }
}

struct FileContent;

#[async_trait]
impl EphemeralResource<()> for FileContent {
    type Model = Contents;
    fn schema(&self) -> Schema {
        contents(false)
    }
    async fn open(&self, _: &(), config: Contents) -> Result<Contents, Diagnostics> {
        read_contents(config, false)
    }
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let sha256 = Function::new("sha256", Type::String, |(text,): (String,)| {
        Ok(sha256_hex(text.as_bytes()))
    });
    let provider = Provider::without_config("rustfile")
        .resource("file", FileResource)
        .data_source("file", FileData)
        .ephemeral("content", FileContent)
        .function(
            sha256
                .param("text", Type::String)
                .summary("SHA-256 of a string, in hex"),
        );
    let protocols: &[u32] = match std::env::var("RUSTFILE_PROTOCOL").as_deref() {
        Ok("5") => &[5],
        Ok("6") => &[6],
        _ => &[5, 6],
    };
    sdk::serve_protocols(
        "registry.terraform.io/gopluginrs/rustfile",
        provider,
        protocols,
    )
    .await
}
