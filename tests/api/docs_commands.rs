//! The docs' commands and links against the repository: every `kepgate …` command shown in
//! README.md and docs/ is one the binary accepts; every path of the repository they show exists;
//! every link between them resolves (scripts/check-docs.py).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use clap::{CommandFactory, Parser};
use kepgate::cli::Cli;

use crate::helpers::repository;

/// The lines of fenced shell blocks (```sh, ```console, ```bash, ```shell) of a Markdown text,
/// with backslash continuations joined and prompts dropped.
fn shell_lines(markdown: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_shell = false;
    let mut in_other = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            if in_shell || in_other {
                in_shell = false;
                in_other = false;
            } else if ["sh", "console", "bash", "shell"].contains(&info.trim()) {
                in_shell = true;
            } else {
                in_other = true;
            }
            continue;
        }
        if !in_shell {
            continue;
        }
        let text = trimmed.strip_prefix("$ ").unwrap_or(trimmed);
        if let Some(head) = text.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        pending.push_str(text);
        lines.push(std::mem::take(&mut pending));
    }
    lines
}

/// The inline code spans (`` `kepgate reload --pid 42` ``) of a Markdown text outside its fenced
/// blocks that name a whole command: none of the placeholders and alternatives of prose
/// (`<id>`, `[--json]`, `a | b`, `…`).
fn concrete_inline_commands(markdown: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let (Some(span), Some(_)) = (parts.next(), parts.next()) {
            let placeholder =
                span.contains(['<', '>', '[', ']', '|', '…', '{']) || span.contains("...");
            if span.starts_with("kepgate ") && !placeholder {
                spans.push(span.to_owned());
            }
        }
    }
    spans
}

/// Shell words, quotes taken off; stops at a comment, a pipe or a command separator.
fn words(line: &str) -> Vec<Vec<String>> {
    let mut commands = vec![Vec::new()];
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    word.push(q);
                }
            }
            '#' if !in_word => break,
            '|' | ';' | '&' | '>' | '<' | '(' | ')' => {
                if in_word {
                    commands.last_mut().unwrap().push(std::mem::take(&mut word));
                    in_word = false;
                }
                if c != '>' && c != '<' {
                    commands.push(Vec::new());
                } else {
                    // The redirection's target is not an argument.
                    while chars.peek() == Some(&' ') {
                        chars.next();
                    }
                    while chars.peek().is_some_and(|c| !c.is_whitespace()) {
                        chars.next();
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    commands.last_mut().unwrap().push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        commands.last_mut().unwrap().push(word);
    }
    commands.retain(|c| !c.is_empty());
    commands
}

fn documentation_files() -> Vec<PathBuf> {
    let mut files = vec![repository().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repository().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_kepgate_command_the_docs_show_is_one_the_binary_accepts() {
    let subcommands: BTreeSet<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .chain(["--config", "--help", "--version"].map(str::to_owned))
        .collect();
    let mut checked = 0;
    let mut refused = Vec::new();
    let mut missing_paths = Vec::new();
    // What the docs have the reader make (`cp -r deploy/kubernetes-example deploy/site`).
    let mut made = BTreeSet::new();
    for file in documentation_files() {
        let name = file
            .strip_prefix(repository())
            .unwrap()
            .display()
            .to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        // Prose may name a command without its arguments ("`kepgate oidc client add` prints
        // …"); a shell block shows it runnable.
        let named = concrete_inline_commands(&text)
            .into_iter()
            .map(|l| (l, true));
        for (line, only_named) in shell_lines(&text)
            .into_iter()
            .map(|l| (l, false))
            .chain(named)
        {
            for command in words(&line) {
                if ["cp", "mkdir"].contains(&command[0].as_str()) {
                    made.extend(command.last().cloned());
                }
                for (i, word) in command.iter().enumerate() {
                    let is_binary = word == "kepgate" || word.ends_with("/kepgate");
                    if is_binary && command.get(i + 1).is_some_and(|w| subcommands.contains(w)) {
                        checked += 1;
                        let args = std::iter::once("kepgate")
                            .chain(command[i + 1..].iter().map(String::as_str));
                        use clap::error::ErrorKind::{
                            DisplayHelpOnMissingArgumentOrSubcommand as Group,
                            MissingRequiredArgument as Missing,
                        };
                        match Cli::try_parse_from(args) {
                            Ok(_) => {}
                            Err(e) if only_named && matches!(e.kind(), Missing | Group) => {}
                            Err(e) => refused.push(format!("{name}: `{line}`: {:?}", e.kind())),
                        }
                        break;
                    }
                    let in_repository = ["scripts/", "bench/", "deploy/", "tests/", "debian/"]
                        .iter()
                        .any(|dir| word.starts_with(dir));
                    if in_repository
                        && !repository()
                            .join(word.trim_end_matches(['.', ',', ':']))
                            .exists()
                    {
                        missing_paths.push((word.clone(), format!("{name}: `{line}`: {word}")));
                    }
                }
            }
        }
    }
    assert!(
        refused.is_empty(),
        "commands the binary refuses:\n{}",
        refused.join("\n")
    );
    let missing: Vec<String> = missing_paths
        .into_iter()
        .filter(|(path, _)| !made.contains(path))
        .map(|(_, at)| at)
        .collect();
    assert!(
        missing.is_empty(),
        "paths that do not exist:\n{}",
        missing.join("\n")
    );
    // The docs show the binary's commands in runnable form, not only in prose.
    assert!(
        checked >= 30,
        "only {checked} kepgate commands found in shell blocks"
    );
}

#[test]
fn the_command_check_notices_a_command_the_binary_does_not_have() {
    let lines = shell_lines(
        "```sh\n$ sudo -u kepgate kepgate sessions purge --all \\\n  --json  # ends them\n```\n",
    );
    assert_eq!(
        lines,
        ["sudo -u kepgate kepgate sessions purge --all --json  # ends them"]
    );
    let command = &words(&lines[0])[0];
    assert!(Cli::try_parse_from(&command[3..]).is_err(), "{command:?}");
    let inline = concrete_inline_commands(
        "Run `kepgate trust show`, or `kepgate sessions revoke <id>`.\n```sh\n`kepgate x`\n```\n",
    );
    assert_eq!(inline, ["kepgate trust show"]);
    assert!(Cli::try_parse_from(["kepgate", "sessions", "list", "--json"]).is_ok());
}

#[test]
fn every_link_in_readme_and_docs_resolves() {
    let out = Command::new("python3")
        .arg(repository().join("scripts/check-docs.py"))
        .current_dir(repository())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
