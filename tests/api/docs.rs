//! The configuration's docs against the code: docs/configuration.md and docs/kepgate.schema.json
//! are what `kepgate config schema` prints; `kepgate.example.toml` shows every key and only keys
//! that exist, with their defaults, and validates against the schema by independent validators
//! (Python's jsonschema, and Taplo as editors use it). The commands and links of the docs are
//! `docs_commands.rs`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use figment::Figment;
use figment::providers::{Format, Toml};
use kepgate::config::{
    REFERENCE_FILE, SCHEMA_FILE, Settings, json_schema, key_paths, keys_of, schema_target,
};

use crate::compose_stack::python_tools;
use crate::helpers::{kepgate_bin, repository};

fn read(path: &str) -> String {
    std::fs::read_to_string(repository().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn printed(args: &[&str]) -> String {
    let out = kepgate_bin().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "kepgate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_committed_reference_and_schema_are_what_the_binary_prints() {
    for (args, file) in [
        (&["config", "schema"][..], SCHEMA_FILE),
        (&["config", "schema", "--markdown"][..], REFERENCE_FILE),
    ] {
        let printed = printed(args);
        let committed = read(file);
        if printed != committed {
            let line = printed
                .lines()
                .zip(committed.lines())
                .position(|(a, b)| a != b)
                .map_or("the length".to_owned(), |n| format!("line {}", n + 1));
            panic!(
                "{file} differs from `kepgate {}` at {line}: a setting changed without its \
                 docs. Run scripts/update-config-docs.sh and commit the result.",
                args.join(" ")
            );
        }
    }
    let reference = read(REFERENCE_FILE);
    for key in [
        "`listen`",
        "`[server.tls]`",
        "`[routes.<name>]`",
        "`kind = \"idgovua\"`",
    ] {
        assert!(reference.contains(key), "{key} missing from the reference");
    }
}

#[test]
fn every_key_of_the_schema_says_what_it_means() {
    let schema = json_schema();
    let mut undocumented = Vec::new();
    find_undocumented(&schema, &schema, "", &mut undocumented);
    assert!(
        undocumented.is_empty(),
        "keys without a doc comment (their line in docs/configuration.md): {undocumented:?}"
    );
}

fn find_undocumented(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    path: &str,
    out: &mut Vec<String>,
) {
    let target = schema_target(root, schema);
    for variant in target
        .get("oneOf")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        find_undocumented(root, variant, path, out);
    }
    if let Some(values) = target.get("additionalProperties").filter(|v| v.is_object()) {
        find_undocumented(root, values, &format!("{path}.*"), out);
    }
    let Some(properties) = target.get("properties").and_then(|p| p.as_object()) else {
        return;
    };
    for (key, value) in properties {
        let key_path = format!("{path}.{key}");
        let said = |s: &serde_json::Value| {
            s.get("description")
                .and_then(|d| d.as_str())
                .is_some_and(|d| !d.trim().is_empty())
        };
        // `kind` is said by each kind's own heading.
        if key != "kind" && !said(value) && !said(schema_target(root, value)) {
            out.push(key_path.trim_start_matches('.').to_owned());
        }
        find_undocumented(root, value, &key_path, out);
    }
}

/// The example with every commented-out key and table (`# key = value`, `# [table]`) taken in,
/// except a key the same table already sets: every key the file shows.
fn example_with_every_key() -> String {
    let mut out = String::new();
    let mut table = String::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for line in read("kepgate.example.toml").lines() {
        let uncommented = line.strip_prefix("# ").filter(|rest| {
            let rest = rest.trim_start();
            rest.starts_with('[') && !rest.starts_with("[\"")
                || rest.split_once(" = ").is_some_and(|(key, _)| {
                    key.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                })
        });
        let line = uncommented.unwrap_or(line).trim_start();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            table = name.to_owned();
        } else if let Some((key, _)) = line.split_once(" = ").filter(|_| !line.starts_with('#'))
            && !seen.insert(format!("{table}.{key}"))
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn parsed(toml: &str) -> serde_json::Value {
    Figment::from(Toml::string(toml))
        .extract::<serde_json::Value>()
        .unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

#[test]
fn the_example_shows_every_key_and_only_keys_that_exist() {
    let schema = json_schema();
    let example = example_with_every_key();
    let shown = keys_of(&schema, &parsed(&example));
    let known = key_paths(&schema);
    let unknown: Vec<_> = shown.difference(&known).collect();
    let not_shown: Vec<_> = known.difference(&shown).collect();
    assert!(
        unknown.is_empty() && not_shown.is_empty(),
        "kepgate.example.toml shows keys the settings do not have: {unknown:?}; \
         and does not show: {not_shown:?}"
    );
    // The values shown are of the types the gateway reads.
    Figment::from(Toml::string(&example))
        .extract::<Settings>()
        .unwrap_or_else(|e| panic!("the example with every key does not read: {e}"));

    // The comparison notices a key that does not exist, and one not shown.
    let typo = example.replacen("[server]\n", "[server]\nlisten_adress = \"x\"\n", 1);
    assert!(
        keys_of(&schema, &parsed(&typo)).contains("server.listen_adress"),
        "a mistyped key is named"
    );
    let without = example.replacen("max_gone_percent = ", "# max_gone_percent = ", 1);
    assert!(!keys_of(&schema, &parsed(&without)).contains("trust.sources.max_gone_percent"));
}

#[test]
fn the_values_the_example_sets_are_the_defaults() {
    // "the values shown are the defaults": what the example sets (not what it shows commented
    // out as an illustration) is what an empty file gets.
    let schema = json_schema();
    let mut differ = Vec::new();
    compare_defaults(
        &schema,
        &schema,
        &parsed(&read("kepgate.example.toml")),
        "",
        &mut differ,
    );
    assert!(
        differ.is_empty(),
        "kepgate.example.toml sets values other than the defaults: {differ:#?}"
    );
}

fn compare_defaults(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    value: &serde_json::Value,
    path: &str,
    differ: &mut Vec<String>,
) {
    let target = schema_target(root, schema);
    if let (Some(object), Some(properties)) = (value.as_object(), target.get("properties")) {
        for (key, value) in object {
            compare_defaults(
                root,
                &properties[key],
                value,
                &format!("{path}.{key}"),
                differ,
            );
        }
        return;
    }
    let default = schema.get("default").or_else(|| target.get("default"));
    // Figment reads 1.0 as a float and whole numbers as integers, as the schema writes them.
    if let Some(default) = default.filter(|d| *d != value) {
        differ.push(format!("{path}: {value} (default {default})"));
    }
}

/// Validates TOML files against the schema with Python's jsonschema (Draft 7); the problems it
/// finds, one per line.
fn validate(schema: &str, files: &[(&str, String)]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("kepgate-docs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kepgate.schema.json"), schema).unwrap();
    let mut paths = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    let out = Command::new(python_tools().join("bin/python"))
        .arg(repository().join("tests/tools/validate_toml.py"))
        .arg(dir.join("kepgate.schema.json"))
        .args(&paths)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "validator failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.lines().map(str::to_owned).collect()
}

#[test]
fn the_example_and_shipped_configurations_validate_against_the_published_schema() {
    let schema = printed(&["config", "schema"]);
    let shipped: Vec<(&str, String)> = vec![
        ("example.toml", read("kepgate.example.toml")),
        ("example-every-key.toml", example_with_every_key()),
        ("debian.toml", read("debian/kepgate.toml")),
        (
            "kubernetes.toml",
            read("deploy/kubernetes-example/kepgate.toml"),
        ),
    ];
    let problems = validate(&schema, &shipped);
    assert!(problems.is_empty(), "{problems:#?}");

    // What an editor with the schema would underline.
    let broken = [
        ("typo.toml", "[server]\nlisten_adress = \"0.0.0.0:8080\"\n".to_owned()),
        ("type.toml", "[session]\nidle_timeout = \"15m\"\n".to_owned()),
        ("value.toml", "[trust]\nrevocation = \"sometimes\"\n".to_owned()),
        (
            "kind.toml",
            "[providers.x]\nkind = \"idgovua\"\ndisplay_name = \"x\"\nbase_url = \"https://id.gov.ua/\"\n\
             client_id = \"a\"\nclient_secret = \"b\"\nacquirer_token = \"c\"\n"
                .to_owned(),
        ),
    ];
    let problems = validate(&schema, &broken);
    for (file, says) in [
        ("typo.toml", "listen_adress"),
        ("type.toml", "idle_timeout"),
        ("value.toml", "sometimes"),
        ("kind.toml", "providers.x"),
    ] {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(file) && p.contains(says)),
            "{file} should be refused naming {says}: {problems:#?}"
        );
    }
}

/// `taplo check FILE` (the TOML toolkit behind VS Code's Even Better TOML) in `dir`, as an
/// editor there would: its verdict and what it said.
fn taplo_check(dir: &Path, file: &str) -> (bool, String) {
    let out = Command::new("node")
        .arg(crate::helpers::ensured_tool("scripts/ensure-taplo.sh"))
        .args(["check", file])
        .current_dir(dir)
        .env("HOME", dir)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

#[test]
fn an_editor_pointed_at_the_schema_as_the_guide_says_marks_a_wrong_key() {
    let dir = std::env::temp_dir().join(format!("kepgate-taplo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // docs/configuring.md: `kepgate config schema > kepgate.schema.json`, then `#:schema` on the
    // first line of kepgate.toml.
    std::fs::write(
        dir.join("kepgate.schema.json"),
        printed(&["config", "schema"]),
    )
    .unwrap();
    let directive = "#:schema ./kepgate.schema.json\n";
    let with_directive = |body: &str| {
        std::fs::write(dir.join("kepgate.toml"), format!("{directive}{body}")).unwrap();
        taplo_check(&dir, "kepgate.toml")
    };
    let (good, said) = with_directive(&example_with_every_key());
    assert!(good, "Taplo refuses the example: {said}");
    let (good, said) = with_directive(
        "[server]\nlisten_adress = \"0.0.0.0:8080\"\n[session]\nidle_timeout = \"15m\"\n",
    );
    assert!(
        !good && said.contains("listen_adress") && said.contains("\"15m\" is not of type"),
        "{said}"
    );

    // The other way the guide gives: a .taplo.toml beside the file, which stays as it is.
    std::fs::write(
        dir.join(".taplo.toml"),
        "[[rule]]\ninclude = [\"kepgate.toml\"]\n\n[rule.schema]\npath = \"./kepgate.schema.json\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("kepgate.toml"),
        "[trust]\nrevocation = \"sometimes\"\n",
    )
    .unwrap();
    let (good, said) = taplo_check(&dir, "kepgate.toml");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!good && said.contains("sometimes"), "{said}");
}
