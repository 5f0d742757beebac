//! Blueprints: the embedded templates behind every non-HCL artifact.
//!
//! Function code, provisioning-template JSON, scripts, stack READMEs and starter specs are
//! text, not Terraform, so they are rendered with minijinja from `blueprints/`, embedded in
//! the binary at build time. The environment is strict: an undefined variable is an error,
//! never an empty string, so a renamed context field breaks a test instead of a deployment.
//! HCL is never produced here; it is built with hcl-rs in `plan`.

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::plan::PlanError;

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    // No auto-escaping: nothing here is HTML. Filters below escape per target language.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.add_filter("json", json_filter);
    env.add_filter("shell", shell_quote);
    // Markdown code spans for spec text (conditions, SQL) in READMEs: a backtick or a line
    // break in the text cannot end the span, and `cell_code` keeps `|` inside a table cell.
    env.add_filter("code", |v: &str| {
        crate::diagnostics::escape::markdown_code(v, false)
    });
    env.add_filter("cell_code", |v: &str| {
        crate::diagnostics::escape::markdown_code(v, true)
    });
    minijinja_embed::load_templates!(&mut env, "blueprints");
    env
});

static EXAMPLES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    minijinja_embed::load_templates!(&mut env, "examples");
    env
});

/// A JSON string/number/object literal of any value, for templates that emit JSON or code.
fn json_filter(value: &minijinja::Value) -> Result<String, minijinja::Error> {
    serde_json::to_string(value)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

/// A POSIX shell single-quoted word.
/// `value` quoted for a POSIX shell (single quotes, embedded ones escaped).
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Renders the blueprint `name` (a path under `blueprints/`, such as `aws/README.md.j2`).
pub fn render<S: Serialize>(name: &str, ctx: S) -> Result<String, PlanError> {
    ENV.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(ctx)))
        .map_err(|source| PlanError::Blueprint {
            name: name.to_owned(),
            source,
        })
}

/// Names of the embedded blueprints under `dir/` (for listing starters).
pub fn list(dir: &str) -> Vec<String> {
    let prefix = format!("{dir}/");
    let mut names: Vec<String> = ENV
        .templates()
        .filter_map(|(name, _)| name.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The embedded example specs: `(example name, file name, contents)`.
pub fn examples() -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = EXAMPLES
        .templates()
        .filter_map(|(path, t)| {
            let (example, file) = path.split_once('/')?;
            Some((example.to_owned(), file.to_owned(), t.source().to_owned()))
        })
        .collect();
    out.sort();
    out
}
