//! The CI recipes in `docs/ci/` are valid YAML, call only `fleetform` subcommands and flags
//! that exist, and work: every `fleetform` command they contain is run, with their variables
//! filled in, in a git repository shaped like a user's (a spec, the committed Terraform, and
//! a base branch to diff against).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use insta_cmd::get_cargo_bin;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid YAML: {e}"))
}

// ---------------------------------------------------------------------------------------------
// A small shell reader: enough to find the commands in a `run:` script.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Op(String),
}

/// Splits a shell script into words (quotes removed, `\`-newline joined) and operators
/// (`|`, `||`, `&&`, `;`, newline, `>`, `>>`, `<`, `(`, `)`); `#` comments are dropped.
fn shell_tokens(script: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let flush = |word: &mut String, in_word: &mut bool, toks: &mut Vec<Tok>| {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(other) => {
                    word.push(other);
                    in_word = true;
                }
            },
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                word.push(e);
                            }
                        }
                        _ => word.push(q),
                    }
                }
            }
            '#' if !in_word => {
                for q in chars.by_ref() {
                    if q == '\n' {
                        break;
                    }
                }
                flush(&mut word, &mut in_word, &mut toks);
                toks.push(Tok::Op(";".into()));
            }
            ' ' | '\t' => flush(&mut word, &mut in_word, &mut toks),
            '\n' | ';' | '(' | ')' | '<' => {
                flush(&mut word, &mut in_word, &mut toks);
                toks.push(Tok::Op(if c == '\n' { ";".into() } else { c.into() }));
            }
            '|' | '&' | '>' => {
                flush(&mut word, &mut in_word, &mut toks);
                let mut op = c.to_string();
                if chars.peek() == Some(&c) {
                    chars.next();
                    op.push(c);
                }
                toks.push(Tok::Op(op));
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    flush(&mut word, &mut in_word, &mut toks);
    toks
}

/// The simple commands of a script, each as its words, redirections removed.
fn commands(script: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut skip_next = false;
    for tok in shell_tokens(script) {
        match tok {
            Tok::Word(_) if skip_next => skip_next = false,
            Tok::Word(w) => current.push(w),
            Tok::Op(op) if op == ">" || op == ">>" || op == "<" => skip_next = true,
            Tok::Op(_) => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[test]
fn the_shell_reader_finds_commands() {
    let script = "fleetform diff \"$SPEC\" --base \"origin/$B\" --format markdown > out.md\n\
                  cat out.md >> \"$X\" # note\n\
                  a | fleetform check x \\\n  --out y && echo 'fleetform nope'";
    assert_eq!(
        commands(script),
        [
            vec![
                "fleetform",
                "diff",
                "$SPEC",
                "--base",
                "origin/$B",
                "--format",
                "markdown"
            ],
            vec!["cat", "out.md"],
            vec!["a"],
            vec!["fleetform", "check", "x", "--out", "y"],
            vec!["echo", "fleetform nope"],
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The recipes

/// A `fleetform` command found in a recipe, with where it came from.
struct Invocation {
    origin: String,
    words: Vec<String>,
    env: BTreeMap<String, String>,
}

fn workflow() -> Value {
    yaml("docs/ci/github-actions.yml")
}

fn hooks() -> Value {
    yaml("docs/ci/pre-commit-hooks.yaml")
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn steps(wf: &Value) -> Vec<&Value> {
    wf["jobs"]
        .as_object()
        .expect("jobs")
        .values()
        .flat_map(|job| job["steps"].as_array().expect("steps").iter())
        .collect()
}

fn invocations() -> Vec<Invocation> {
    let mut out = Vec::new();
    let wf = workflow();
    let global_env = string_map(&wf["env"]);
    for step in steps(&wf) {
        let Some(run) = step["run"].as_str() else {
            continue;
        };
        let mut env = global_env.clone();
        env.extend(string_map(&step["env"]));
        for words in commands(run) {
            if words[0] == "fleetform" {
                out.push(Invocation {
                    origin: format!("workflow step `{}`", step["name"].as_str().unwrap()),
                    words,
                    env: env.clone(),
                });
            }
        }
    }
    for hook in hooks().as_array().expect("a list of hooks") {
        let mut words: Vec<String> = commands(hook["entry"].as_str().unwrap())
            .concat()
            .into_iter()
            .collect();
        words.extend(
            hook["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| a.as_str().unwrap().to_owned()),
        );
        out.push(Invocation {
            origin: format!("hook `{}`", hook["id"].as_str().unwrap()),
            words,
            env: BTreeMap::new(),
        });
    }
    out
}

fn fleetform(dir: &Path, args: &[String]) -> std::process::Output {
    Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn the_workflow_is_a_github_actions_workflow_in_the_right_order() {
    let wf = workflow();
    assert_eq!(wf["name"], "fleetform");
    assert!(
        wf["on"]["pull_request"].is_object(),
        "runs on pull requests"
    );
    assert_eq!(wf["permissions"]["pull-requests"], "write");
    assert_eq!(wf["permissions"]["contents"], "read");
    let steps = steps(&wf);
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(uses.iter().any(|u| u.starts_with("actions/checkout@")));
    assert!(uses.iter().any(|u| u.starts_with("actions/github-script@")));

    // validate --format json, check, cost --budget, then diff --base ... --format markdown.
    let position = |sub: &str, flag: &str| {
        steps
            .iter()
            .position(|s| {
                s["run"].as_str().is_some_and(|run| {
                    commands(run)
                        .iter()
                        .any(|w| w[0] == "fleetform" && w[1] == sub && w.iter().any(|x| x == flag))
                })
            })
            .unwrap_or_else(|| panic!("no step runs `fleetform {sub} ... {flag}`"))
    };
    let order = [
        position("validate", "--format"),
        position("check", "--out"),
        position("cost", "--budget"),
        position("diff", "--base"),
    ];
    assert!(order.is_sorted(), "steps in order: {order:?}");
    let diff_run = steps[order[3]]["run"].as_str().unwrap();
    assert!(diff_run.contains("--format markdown"), "{diff_run}");
    assert!(
        diff_run.contains("origin/$BASE_REF"),
        "diffs against the base branch: {diff_run}"
    );
    assert_eq!(
        steps[order[3]]["env"]["BASE_REF"], "${{ github.base_ref }}",
        "the base branch comes in through the environment"
    );

    // One sticky comment: found by its marker, then updated or created.
    let script = steps
        .iter()
        .find_map(|s| s["with"]["script"].as_str())
        .expect("a github-script step");
    for needle in [
        "<!-- fleetform-diff -->",
        "updateComment",
        "createComment",
        "listComments",
        "fleetform-diff.md",
    ] {
        assert!(script.contains(needle), "the comment script uses {needle}");
    }
    // Placeholders are marked.
    let text = std::fs::read_to_string(root().join("docs/ci/github-actions.yml")).unwrap();
    assert!(text.contains("cargo install --locked --git"));
    assert!(text.matches("REPLACE").count() >= 2);
}

#[test]
fn the_hooks_are_pre_commit_hook_definitions() {
    let hooks = hooks();
    let hooks = hooks.as_array().expect("a list");
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["fleetform-validate", "fleetform-check"]);
    for h in hooks {
        for key in ["id", "name", "entry", "language"] {
            assert!(h[key].is_string(), "{}: `{key}`", h["id"]);
        }
        assert_eq!(
            h["pass_filenames"], false,
            "{}: fleetform takes one spec, not the list of changed files",
            h["id"]
        );
        let files = h["files"].as_str().unwrap();
        assert!(
            files.contains("fleet"),
            "{}: runs when the spec changes",
            h["id"]
        );
    }
}

#[test]
fn every_subcommand_and_flag_the_recipes_use_exists() {
    let invocations = invocations();
    assert!(invocations.len() >= 6, "found {}", invocations.len());
    let mut help_of: BTreeMap<String, String> = BTreeMap::new();
    for inv in &invocations {
        // `fleetform --version` and other global flags are checked against the top-level help.
        let (sub, first_flag) = if inv.words[1].starts_with('-') {
            (String::new(), 1)
        } else {
            (inv.words[1].clone(), 2)
        };
        let help = help_of.entry(sub.clone()).or_insert_with(|| {
            let mut args = vec!["--help".to_owned()];
            if !sub.is_empty() {
                args.insert(0, sub.clone());
            }
            let out = fleetform(root(), &args);
            assert!(
                out.status.success(),
                "{}: `fleetform {sub}` is not a subcommand",
                inv.origin
            );
            String::from_utf8(out.stdout).unwrap()
        });
        for (i, word) in inv.words.iter().enumerate().skip(first_flag) {
            let Some(flag) = word.strip_prefix("--") else {
                continue;
            };
            let flag = flag.split('=').next().unwrap();
            let long = format!("--{flag}");
            let known = help.match_indices(&long).any(|(at, _)| {
                !help[at + long.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
            });
            assert!(known, "{}: `fleetform {sub}` has no `{long}`", inv.origin);
            // A literal value of an option with listed values must be one of them.
            if let Some(value) = inv.words.get(i + 1)
                && !value.starts_with('-')
                && !value.contains('$')
                && help.contains("possible values")
                && flag == "format"
            {
                assert!(
                    help.contains(&format!("- {value}:"))
                        || help.contains(&format!(" {value},"))
                        || help.contains(&format!(" {value}]")),
                    "{}: `{value}` is not a value of `fleetform {sub} --format`",
                    inv.origin
                );
            }
        }
    }
    for sub in ["validate", "check", "cost", "diff"] {
        assert!(
            help_of.contains_key(sub),
            "the recipes run `fleetform {sub}`"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Running them

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=fleetform tests",
            "-c",
            "user.email=tests@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `$NAME` and `${NAME}` replaced from `env`; the GitHub-only ones from `github`.
fn expand(word: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = word.to_owned();
    for (k, v) in env {
        let v = if v.contains("${{") {
            "main"
        } else {
            v.as_str()
        };
        out = out
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    assert!(
        !out.contains('$'),
        "`{word}` has a variable the test cannot fill"
    );
    out
}

/// Every `fleetform` command of both recipes, run in a repository like a user's: the minimal
/// example as `fleet.yaml`, its Terraform committed in `terraform/`, and `origin/main` one
/// commit behind with a smaller fleet. All of them succeed.
#[test]
fn every_recipe_command_runs_in_a_users_repository() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let spec = std::fs::read_to_string(root().join("examples/minimal/fleet.yaml")).unwrap();
    std::fs::write(
        repo.join("fleet.yaml"),
        spec.replace("devices: 100", "devices: 80"),
    )
    .unwrap();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "base"]);
    git(repo, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    std::fs::write(repo.join("fleet.yaml"), &spec).unwrap();
    let built = fleetform(
        repo,
        &["build", "fleet.yaml", "--out", "terraform"].map(String::from),
    );
    assert!(built.status.success());
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "more devices"]);

    for inv in invocations() {
        let args: Vec<String> = inv.words[1..].iter().map(|w| expand(w, &inv.env)).collect();
        let out = fleetform(repo, &args);
        // `diff --exit-code` says "changes" with 3 (the fleet grew): the recipe expects it.
        let expected = if args[0] == "diff" && args.contains(&"--exit-code".to_owned()) {
            Some(3)
        } else {
            Some(0)
        };
        assert!(
            out.status.code() == expected,
            "{}: `fleetform {}` exits {:?}:\n{}{}",
            inv.origin,
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if args[0] == "diff" {
            let md = String::from_utf8(out.stdout.clone()).unwrap();
            assert!(md.starts_with("## Infrastructure change"), "{md}");
            assert!(md.contains("aws/README.md"), "the fleet size changed: {md}");
        }
        if args[0] == "validate" && args.contains(&"json".to_owned()) {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["valid"], true);
        }
    }
}
