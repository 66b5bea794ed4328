//! A Terraform provider in Rust on the SDK of `go-plugin-terraform`: provider `rustfile`
//! (`registry.terraform.io/gopluginrs/rustfile`), over protocol 6 and 5 (`RUSTFILE_PROTOCOL=5`
//! offers only 5); `-debug` prints `TF_REATTACH_PROVIDERS`.
//!
//! - resource `rustfile_file`: writes `content` to the absolute `path` (a new path replaces it),
//!   computes `id` and `sha256`; write-only `secret` goes to `<path>.secret`, never to state;
//!   identity `path`; import by path; version 0 states (`filename` for `path`) are upgraded; a
//!   `terraform_data` whose input is `{ path, content }` can be `moved` to it.
//! - data source `rustfile_file` and ephemeral resource `rustfile_content`: read a file.
//! - list resource `rustfile_file` (`terraform query`): the files of `dir`.
//! - action `rustfile_touch`: creates an empty file at `path` if there is none.
//! - function `provider::rustfile::sha256(text)`.

use go_plugin_terraform::sdk::{self, error, Action, Attr, DataSource, Diagnostics};
use go_plugin_terraform::sdk::{EphemeralResource, Function, ListResource, Listed};
use go_plugin_terraform::sdk::{MaybeUnknown as Maybe, Progress, Provider, Resource, Schema};
use go_plugin_terraform::{sdk::Validator, Type, Value};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
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

fn write(path: &str, content: &str) -> Result<(), Diagnostics> {
    std::fs::write(path, content).map_err(|e| io("write", path, e))
}

/// The resource's model, and the configuration of every other part (the list's `dir` included).
#[derive(Serialize, Deserialize)]
struct File {
    #[serde(alias = "dir")]
    path: String,
    #[serde(default)]
    content: Maybe<String>,
    #[serde(default)]
    id: Maybe<String>,
    #[serde(default)]
    sha256: Maybe<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
            .identity(&["path"])
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
        write(&plan.path, &content)?;
        tracing::info!(path = %plan.path, bytes = content.len(), "wrote file");
        if let Some(secret) = &plan.secret {
            write(&format!("{}.secret", plan.path), secret)?;
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

    fn move_state(&self, _: &str, ty: &str, state: Json) -> Option<Result<File, Diagnostics>> {
        // A `terraform_data` whose input is `{ path, content }` becomes that file.
        described(&state["input"]["value"], "path")
            .filter(|_| ty == "terraform_data")
            .map(Ok)
    }

    fn upgrade(&self, version: i64, state: Json) -> Result<File, Diagnostics> {
        let unsupported = || error("Unsupported state", format!("version {version}"));
        described(&state, "filename")
            .filter(|_| version == 0)
            .ok_or_else(unsupported)
    }
}

/// The file a stored JSON object describes: its path under `path_key`, its `content`.
fn described(object: &Json, path_key: &str) -> Option<File> {
    let content = object["content"].as_str().unwrap_or("").to_string();
    Some(File::at(object[path_key].as_str()?, content))
}

/// `name`, an absolute path; with `read`, also what [`File`] computes.
fn at(name: &str, read: bool) -> Schema {
    let schema = Schema::new().attr(Attr::string(name).required().validate(absolute()));
    let computed = ["content", "id", "sha256"].map(|a| Attr::string(a).computed());
    match read {
        true => computed.into_iter().fold(schema, Schema::attr),
        false => schema,
    }
}

fn existing(path: &str) -> Result<File, Diagnostics> {
    let content =
        read(path)?.ok_or_else(|| error("File not found", format!("no file at {path:?}")))?;
    Ok(File::at(path, content))
}

struct Reader;

#[async_trait]
impl DataSource<()> for Reader {
    type Model = File;
    fn schema(&self) -> Schema {
        at("path", true)
    }
    async fn read(&self, _: &(), config: File) -> Result<File, Diagnostics> {
        existing(&config.path)
    }
}

#[async_trait]
impl EphemeralResource<()> for Reader {
    type Model = File;
    fn schema(&self) -> Schema {
        at("path", true)
    }
    async fn open(&self, _: &(), config: File) -> Result<File, Diagnostics> {
        existing(&config.path)
    }
}

#[async_trait]
impl ListResource<()> for Reader {
    type Config = File;
    type Object = File;
    fn schema(&self) -> Schema {
        at("dir", false)
    }
    async fn list(&self, _: &(), config: File) -> Result<Vec<Listed<File>>, Diagnostics> {
        let entries = std::fs::read_dir(&config.path).map_err(|e| io("list", &config.path, e))?;
        let mut paths: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        let named = paths
            .iter()
            .filter_map(|p| Some((p.to_str()?, p.file_name()?.to_str()?)));
        let listed = named.map(|(path, name)| (name.to_string(), existing(path)));
        listed
            .map(|(display_name, object)| {
                Ok(Listed {
                    display_name,
                    object: object?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl Action<()> for Reader {
    type Config = File;
    fn schema(&self) -> Schema {
        at("path", false)
    }
    async fn invoke(&self, _: &(), config: File, progress: Progress) -> Result<(), Diagnostics> {
        progress.report(format!("touching {}", config.path));
        match read(&config.path)? {
            Some(_) => Ok(()),
            None => write(&config.path, ""),
        }
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
        .data_source("file", Reader)
        .ephemeral("content", Reader)
        .list("file", Reader)
        .action("touch", Reader)
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
