//! Provider `rustfile` (`registry.terraform.io/gopluginrs/rustfile`) on the SDK of
//! `go-plugin-terraform`, over protocol 6 and 5 (`RUSTFILE_PROTOCOL=5` offers only 5); `-debug`
//! prints `TF_REATTACH_PROVIDERS`. Resource `rustfile_file` (imported by path, moved from a
//! `terraform_data` of `{ path, content }`); data source `rustfile_file`, ephemeral resource
//! `rustfile_content` and list resource `rustfile_file` (the files of `dir`) read files; action
//! `rustfile_touch` creates an empty file; function `provider::rustfile::sha256(text)`.

use go_plugin_terraform::sdk::{self, Action, Attr, DataSource, Diagnostics, Function};
use go_plugin_terraform::sdk::{EphemeralResource, ListResource, Listed, MaybeUnknown as Maybe};
use go_plugin_terraform::sdk::{OrError, Progress, Provider, Resource, Schema, Validator};
use go_plugin_terraform::Type;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn absolute() -> Validator {
    Validator::regex("^/", "an absolute path").summary("Path must be absolute")
}

fn write(path: &str, content: &str) -> Result<(), Diagnostics> {
    std::fs::write(path, content).or_error(format!("Could not write {path}"))
}

/// A file Terraform manages; also what the data source and the ephemeral resource read.
#[derive(Serialize, Deserialize, Schema)]
#[schema(version = 1, identity = "path")]
struct File {
    /// The file's absolute path; a new path replaces the file.
    #[schema(requires_replace, validate = absolute())]
    #[serde(alias = "filename")] // its name in version 0 states
    path: String,
    /// What the file holds.
    content: Maybe<String>,
    #[schema(computed, use_state_for_unknown)]
    id: Maybe<String>,
    /// SHA-256 of `content`, in hex.
    #[schema(computed)]
    sha256: Maybe<String>,
    /// Written to `<path>.secret`, never kept in state.
    #[schema(sensitive, write_only)]
    #[serde(skip_serializing_if = "Option::is_none")] // the readers' schema has none
    secret: Option<String>,
}

impl File {
    /// The file at `path` holding `content`, with what is computed from them.
    fn at(path: &str, content: String) -> File {
        File {
            sha256: sha256_hex(content.as_bytes()).into(),
            id: path.to_string().into(),
            path: path.to_string(),
            content: content.into(),
            secret: None,
        }
    }
}

/// The file at `path`, which must exist.
fn existing(path: &str) -> Result<File, Diagnostics> {
    let content = std::fs::read_to_string(path).or_error(format!("Could not read {path}"))?;
    Ok(File::at(path, content))
}

/// The action's configuration.
#[derive(Deserialize, Schema)]
struct Target {
    /// An absolute path.
    #[schema(validate = absolute())]
    path: String,
}

/// The list resource's configuration.
#[derive(Deserialize, Schema)]
struct Dir {
    /// The directory whose files are listed.
    dir: String,
}

struct FileResource;

impl Resource<()> for FileResource {
    type Model = File;

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
        if !std::path::Path::new(&state.path).exists() {
            return Ok(None); // deleted behind Terraform's back: to be created again
        }
        existing(&state.path).map(Some)
    }

    async fn update(&self, client: &(), _: File, plan: File) -> Result<File, Diagnostics> {
        self.create(client, plan).await
    }

    async fn delete(&self, _: &(), state: File) -> Result<(), Diagnostics> {
        let _ = std::fs::remove_file(format!("{}.secret", state.path));
        if std::path::Path::new(&state.path).exists() {
            std::fs::remove_file(&state.path).or_error("Could not delete the file")?;
        }
        Ok(())
    }

    fn move_state(&self, _: &str, ty: &str, state: Json) -> Option<Result<File, Diagnostics>> {
        let input = &state["input"]["value"]; // a `terraform_data`'s `{ path, content }`
        let path = input["path"].as_str().filter(|_| ty == "terraform_data")?;
        Some(Ok(File::at(path, input["content"].as_str()?.into())))
    }
}

/// Reads files: the data source, the ephemeral resource, the list resource and the action.
struct Reader;

/// What the data source and the ephemeral resource take and give: `path` given, the rest read.
fn reading() -> Schema {
    let read = ["content", "id", "sha256"].map(|a| Attr::string(a).computed());
    read.into_iter().fold(Schema::of::<Target>(), Schema::attr)
}

impl DataSource<()> for Reader {
    type Model = File;
    fn schema(&self) -> Schema {
        reading()
    }
    async fn read(&self, _: &(), config: File) -> Result<File, Diagnostics> {
        existing(&config.path)
    }
}

impl EphemeralResource<()> for Reader {
    type Model = File;
    fn schema(&self) -> Schema {
        reading()
    }
    async fn open(&self, _: &(), config: File) -> Result<File, Diagnostics> {
        existing(&config.path)
    }
}

impl ListResource<()> for Reader {
    type Config = Dir;
    type Object = File;
    async fn list(&self, _: &(), config: Dir) -> Result<Vec<Listed<File>>, Diagnostics> {
        let entries = std::fs::read_dir(&config.dir).or_error("Could not list the directory")?;
        let mut listed = Vec::new();
        for path in entries.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            listed.push(Listed::new(name, existing(&path.to_string_lossy())?));
        }
        listed.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(listed)
    }
}

impl Action<()> for Reader {
    type Config = Target;
    async fn invoke(&self, _: &(), config: Target, progress: Progress) -> Result<(), Diagnostics> {
        progress.report(format!("touching {}", config.path));
        match std::path::Path::new(&config.path).exists() {
            true => Ok(()),
            false => write(&config.path, ""),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    let sha256 = |(text,): (String,)| Ok(sha256_hex(text.as_bytes()));
    let sha256 = Function::new("sha256", Type::String, sha256)
        .param("text", Type::String)
        .summary("SHA-256 of a string, in hex");
    let provider = Provider::without_config("rustfile")
        .resource("file", FileResource)
        .data_source("file", Reader)
        .ephemeral("content", Reader)
        .list("file", Reader)
        .action("touch", Reader)
        .function(sha256);
    let only = std::env::var("RUSTFILE_PROTOCOL")
        .ok()
        .and_then(|p| p.parse().ok());
    let protocols = only.map_or(vec![5, 6], |p| vec![p]);
    sdk::serve_protocols(ADDRESS, provider, &protocols).await
}

const ADDRESS: &str = "registry.terraform.io/gopluginrs/rustfile";
