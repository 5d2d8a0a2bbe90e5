//! No Kubernetes cluster runs here, so `deploy/kubernetes` is checked as far as it can be
//! without one: the base and the example overlay (`deploy/kubernetes-example`) render with
//! kubectl's kustomize and pass the Kubernetes schemas (the pinned `kubernetes-validate`,
//! strict); the base holds what an operator relies on; and an operator's copy of the example,
//! filled in as docs/install.md says, with the trust list and certificate made by its
//! `kubectl create` commands, is a configuration kepgate accepts and migrates a database with —
//! through the very files and environment its pods would see.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::Value;
use sqlx::Connection as _;

use crate::diia_stack::TempDir;
use crate::helpers::{fresh_database_url, kepgate_bin, postgres_server_url, repository};
use crate::test_pki::{issue_for, test_pki};

const BASE: &str = "deploy/kubernetes";
const EXAMPLE: &str = "deploy/kubernetes-example";
/// The oldest and the newest Kubernetes whose schemas the pinned validator carries.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.34.0", "1.37.0"];
/// A ConfigMap's (and a Secret's) data may not exceed 1 MiB.
const CONFIGMAP_LIMIT: usize = 1024 * 1024;

/// The pinned Python tools, with the Kubernetes validator among them.
fn python_tools() -> PathBuf {
    let dir = crate::compose_stack::python_tools();
    assert!(
        dir.join("bin/kubernetes-validate").is_file(),
        "{} has no bin/kubernetes-validate: run scripts/ensure-python-tools.sh",
        dir.display()
    );
    dir
}

/// Runs a program with `stdin`: its stdout, or what it said when it failed.
fn run(program: &Path, args: &[&str], stdin: &[u8]) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(repository())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): these tests need kubectl (v1.27 or later, with its \
                 kustomize) on PATH and scripts/ensure-python-tools.sh's environment",
                program.display()
            )
        });
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

fn kubectl(args: &[&str]) -> String {
    run(Path::new("kubectl"), args, b"")
        .unwrap_or_else(|e| panic!("kubectl {}:\n{e}", args.join(" ")))
}

/// YAML documents as JSON values, read by the pinned PyYAML.
fn documents(yaml: &str) -> Vec<Value> {
    let json = run(
        &python_tools().join("bin/python"),
        &[
            "-c",
            "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)",
        ],
        yaml.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("not YAML:\n{e}"));
    serde_json::from_str(&json).unwrap()
}

/// `kubectl kustomize dir`: the YAML an apply would send, and its documents.
fn render(dir: &Path) -> (String, Vec<Value>) {
    let yaml = kubectl(&["kustomize", &dir.to_string_lossy()]);
    let docs = documents(&yaml);
    (yaml, docs)
}

/// Every document against the schemas of every version in [`KUBERNETES_VERSIONS`], strictly
/// (no field the schema does not name). A kind without a schema (a misspelt apiVersion) fails
/// too, where the validator itself only warns.
fn validate(yaml: &str) -> Result<(), String> {
    let count = documents(yaml).len();
    let mut args = vec!["--strict"];
    for version in KUBERNETES_VERSIONS {
        args.extend(["--kubernetes-version", version]);
    }
    // A file, not stdin: the validator reads its input once per version.
    let file = std::env::temp_dir().join(format!(
        "kepgate-manifests-{}.yaml",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, yaml).unwrap();
    let file_name = file.to_string_lossy().into_owned();
    args.push(&file_name);
    let out = run(&python_tools().join("bin/kubernetes-validate"), &args, b"");
    let _ = std::fs::remove_file(&file);
    let out = out?;
    let passed = out.lines().filter(|l| l.contains(" passed for ")).count();
    if passed != count * KUBERNETES_VERSIONS.len() || out.lines().any(|l| !l.starts_with("INFO")) {
        return Err(out);
    }
    Ok(())
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found = of_kind(docs, kind);
    assert_eq!(found.len(), 1, "one {kind}: {found:?}");
    found[0]
}

fn named<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

/// Does `selector` (matchLabels) pick a pod with `labels`?
fn selects(selector: &Value, labels: &Value) -> bool {
    let selector = selector.as_object().expect("a selector");
    !selector.is_empty() && selector.iter().all(|(k, v)| &labels[k] == v)
}

fn containers(pod: &Value) -> Vec<&Value> {
    let spec = &pod["spec"];
    let mut all: Vec<&Value> = spec["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    all.extend(spec["containers"].as_array().unwrap());
    all
}

fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    containers(pod)
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

/// A container's literal `env:` values by name.
fn literal_env(container: &Value) -> BTreeMap<String, String> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let value = e["value"]
                .as_str()
                .unwrap_or_else(|| panic!("env {e}: a literal value"));
            (e["name"].as_str().unwrap().to_owned(), value.to_owned())
        })
        .collect()
}

fn seconds(env: &BTreeMap<String, String>, name: &str) -> u64 {
    env.get(name)
        .unwrap_or_else(|| panic!("{name} is set"))
        .parse()
        .unwrap()
}

/// The port number of a container port by name.
fn container_port(container: &Value, name: &str) -> u64 {
    container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no port named {name}"))["containerPort"]
        .as_u64()
        .unwrap()
}

/// The variable names of the example's Secret: values an operator keeps secret.
fn secret_names() -> Vec<String> {
    std::fs::read_to_string(repository().join(EXAMPLE).join("secrets.env"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_owned()))
        .collect()
}

#[test]
fn the_manifests_render_and_pass_the_kubernetes_schemas() {
    for dir in [BASE, EXAMPLE] {
        let (yaml, docs) = render(&repository().join(dir));
        assert!(docs.len() >= 5, "{dir}: {docs:?}");
        if let Err(e) = validate(&yaml) {
            panic!("{dir} does not pass the Kubernetes schemas:\n{e}");
        }
    }
    // The validation itself refuses a misspelt field and an API that does not exist.
    let (yaml, _) = render(&repository().join(BASE));
    let misspelt = yaml.replacen("\n  replicas: 2\n", "\n  replica: 2\n", 1);
    assert_ne!(misspelt, yaml);
    let refused = validate(&misspelt).unwrap_err();
    assert!(refused.contains("'replica' was unexpected"), "{refused}");
    let unknown = yaml.replacen("apiVersion: policy/v1\n", "apiVersion: policy/v9\n", 1);
    assert_ne!(unknown, yaml);
    assert!(validate(&unknown).is_err());
}

#[test]
fn the_base_is_what_an_operator_relies_on() {
    let (_, docs) = render(&repository().join(BASE));
    // The configuration and the secrets are the operator's: none in the base.
    for doc in &docs {
        assert!(
            doc["kind"] != "Secret" && doc["kind"] != "ConfigMap",
            "the base holds a {}: {doc}",
            doc["kind"]
        );
    }

    let deployment = one(&docs, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let pod = &deployment["spec"]["template"];
    let labels = &pod["metadata"]["labels"];
    assert!(selects(
        &deployment["spec"]["selector"]["matchLabels"],
        labels
    ));
    let budget = one(&docs, "PodDisruptionBudget");
    assert_eq!(budget["spec"]["minAvailable"], 1);
    assert!(selects(&budget["spec"]["selector"]["matchLabels"], labels));
    let service = one(&docs, "Service");
    assert!(selects(&service["spec"]["selector"], labels));
    let policy = one(&docs, "NetworkPolicy");
    assert!(selects(
        &policy["spec"]["podSelector"]["matchLabels"],
        labels
    ));
    // Out of the pod: anywhere but the link-local range (the cloud's metadata service).
    assert!(
        policy["spec"]["policyTypes"]
            .as_array()
            .unwrap()
            .contains(&"Egress".into()),
        "{policy}"
    );
    let excepted: Vec<&str> = policy["spec"]["egress"][0]["to"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|to| to["ipBlock"]["except"].as_array().unwrap())
        .map(|cidr| cidr.as_str().unwrap())
        .collect();
    assert_eq!(excepted, ["169.254.0.0/16", "fe80::/10"]);
    let spreads = pod["spec"]["topologySpreadConstraints"].as_array().unwrap();
    assert!(
        spreads
            .iter()
            .any(|s| s["topologyKey"] == "kubernetes.io/hostname"
                && selects(&s["labelSelector"]["matchLabels"], labels)),
        "replicas spread across nodes: {spreads:?}"
    );

    // Not root, nothing to escalate to, nothing to write, no API token.
    let spec = &pod["spec"];
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(spec["enableServiceLinks"], false);
    let pod_security = &spec["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    let dockerfile = std::fs::read_to_string(repository().join("Dockerfile")).unwrap();
    let uid = pod_security["runAsUser"].as_u64().unwrap();
    assert!(
        dockerfile.contains(&format!("--uid {uid} ")),
        "runAsUser {uid} is the image's user"
    );
    assert_eq!(pod_security["seccompProfile"]["type"], "RuntimeDefault");
    for c in containers(pod) {
        let name = &c["name"];
        let security = &c["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(security["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(
            security["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{name}"
        );
        for resource in ["cpu", "memory"] {
            assert!(
                c["resources"]["requests"][resource].is_string(),
                "{name} requests {resource}"
            );
        }
        assert!(
            c["resources"]["limits"]["memory"].is_string(),
            "{name}: a memory limit"
        );
        // A subPath mount never sees a Secret's or ConfigMap's update (the TLS reload).
        for mount in c["volumeMounts"].as_array().unwrap() {
            assert!(mount["subPath"].is_null(), "{name}: {mount}");
        }
        for (variable, _) in literal_env(c) {
            assert!(
                !secret_names().contains(&variable),
                "{name}: {variable} is a secret, set in the base"
            );
        }
    }

    // The schema is migrated before the gateway serves: an init container of the same image.
    let gateway = container(pod, "kepgate");
    assert_eq!(gateway["args"], serde_json::json!(["serve"]));
    let inits = spec["initContainers"].as_array().unwrap();
    assert_eq!(inits.len(), 1);
    let migrate = &inits[0];
    assert_eq!(migrate["args"], serde_json::json!(["migrate"]));
    assert_eq!(migrate["image"], gateway["image"]);
    assert_eq!(migrate["envFrom"], gateway["envFrom"]);
    let env = literal_env(gateway);
    assert_eq!(env["KEPGATE_DATABASE__MIGRATE_ON_START"], "false");
    assert_eq!(
        literal_env(migrate)["KEPGATE_CONFIG"],
        env["KEPGATE_CONFIG"]
    );

    // The ports kepgate listens on are the container's, the probes' and the Service's.
    let https = container_port(gateway, "https");
    let metrics = container_port(gateway, "metrics");
    assert!(env["KEPGATE_SERVER__LISTEN"].ends_with(&format!(":{https}")));
    assert!(env["KEPGATE_METRICS__LISTEN"].ends_with(&format!(":{metrics}")));
    for port in service["spec"]["ports"].as_array().unwrap() {
        container_port(gateway, port["targetPort"].as_str().unwrap());
    }
    // The probes ask kepgate's health routes, over the HTTPS it serves ([server.tls]); the
    // route prefix is checked against the configuration in the next test.
    for (probe, route) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &gateway[probe]["httpGet"];
        assert!(
            get["path"].as_str().unwrap().ends_with(route),
            "{probe}: {get}"
        );
        assert_eq!(get["port"], "https", "{probe}");
        assert_eq!(get["scheme"], "HTTPS", "{probe}");
    }

    // SIGTERM: /readyz fails for the delay, in-flight requests get the grace, and only then
    // would the kubelet kill.
    let stopping = seconds(&env, "KEPGATE_SERVER__SHUTDOWN_DELAY")
        + seconds(&env, "KEPGATE_SERVER__SHUTDOWN_GRACE");
    let grace = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        grace > stopping,
        "terminationGracePeriodSeconds {grace} ≤ delay + grace {stopping}"
    );
}

/// An operator's copy of the example overlay in `dir`, its `resources:` pointing at the base
/// and secrets.env filled in as docs/install.md says: `<openssl rand -hex 32>` with that, every
/// other `<…>` with a value of the operator's.
fn operators_overlay(dir: &Path) -> PathBuf {
    let site = dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    for entry in std::fs::read_dir(repository().join(EXAMPLE)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), site.join(entry.file_name())).unwrap();
    }
    let kustomization = std::fs::read_to_string(site.join("kustomization.yaml")).unwrap();
    // kustomize takes a base by a relative path only.
    let base = relative(&site, &repository().join(BASE));
    let moved = kustomization.replace("  - ../kubernetes\n", &format!("  - {}\n", base.display()));
    assert_ne!(moved, kustomization);
    std::fs::write(site.join("kustomization.yaml"), moved).unwrap();

    let secrets = std::fs::read_to_string(site.join("secrets.env")).unwrap();
    let mut filled = String::new();
    let mut rest = secrets.as_str();
    while let Some(start) = rest.find('<') {
        let end = start + rest[start..].find('>').unwrap();
        filled.push_str(&rest[..start]);
        let value = uuid::Uuid::new_v4().simple().to_string();
        if &rest[start..=end] == "<openssl rand -hex 32>" {
            filled.push_str(&format!("{value}{}", uuid::Uuid::new_v4().simple()));
        } else {
            filled.push_str(&value);
        }
        rest = &rest[end + 1..];
    }
    filled.push_str(rest);
    std::fs::write(site.join("secrets.env"), filled).unwrap();
    site
}

/// The path of `to` from the directory `from`.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (from, to) = (from.canonicalize().unwrap(), to.canonicalize().unwrap());
    let (from, to): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path: PathBuf = from[common..].iter().map(|_| "..").collect();
    path.extend(&to[common..]);
    path
}

/// What docs/install.md has the operator create beside the overlay: the trust list (the national
/// bundle) and the served certificate, made by the same `kubectl create` commands.
fn operators_objects(dir: &Path, namespace: &str) -> Vec<Value> {
    let trust = repository().join("tests/fixtures/ua-trust");
    let trust_yaml = kubectl(&[
        "create",
        "configmap",
        "kepgate-trust",
        "-n",
        namespace,
        &format!("--from-file={}", trust.join("CACertificates.p7b").display()),
        &format!("--from-file={}", trust.join("CAs.json").display()),
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    std::fs::create_dir_all(dir).unwrap();
    test_pki(dir);
    let (cert, key) = issue_for(
        dir,
        "kep",
        "serverAuth",
        "subjectAltName=DNS:kep.example.ua\n",
    );
    let tls_yaml = kubectl(&[
        "create",
        "secret",
        "tls",
        "kepgate-tls",
        "-n",
        namespace,
        &format!("--cert={}", cert.display()),
        &format!("--key={}", key.display()),
        "--dry-run=client",
        "-o",
        "yaml",
    ]);
    let yaml = format!("{trust_yaml}---\n{tls_yaml}");
    if let Err(e) = validate(&yaml) {
        panic!("the operator's objects do not pass the Kubernetes schemas:\n{e}");
    }
    let objects = documents(&yaml);
    let trust = &objects[0];
    let size: usize = ["data", "binaryData"]
        .iter()
        .flat_map(|field| {
            let values = trust[field].as_object().into_iter().flatten();
            values.map(move |(_, v)| decoded(trust, field, v).len())
        })
        .sum();
    assert!(
        size < CONFIGMAP_LIMIT,
        "the trust list ({size} bytes) no longer fits in a ConfigMap"
    );
    objects
}

/// A value of `field` of a ConfigMap or Secret: a ConfigMap's `data` is text, the rest base64
/// (which kustomize wraps in lines, and Kubernetes reads without them).
fn decoded(object: &Value, field: &str, value: &Value) -> Vec<u8> {
    let text = value.as_str().unwrap();
    if object["kind"] == "ConfigMap" && field == "data" {
        text.as_bytes().to_vec()
    } else {
        let unwrapped: String = text.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
        base64::engine::general_purpose::STANDARD
            .decode(unwrapped)
            .unwrap()
    }
}

/// One container of the pod as a process here: its volumes written under `root` from the
/// objects they name (every path below a mount moved there, in files and variables alike), and
/// its environment — the Secret's variables, then the container's own, as the kubelet sets
/// them. A volume whose object does not exist fails, as the pod would not start.
fn as_process(docs: &[Value], pod: &Value, name: &str, root: &Path) -> Vec<(String, String)> {
    let c = container(pod, name);
    let mounts: Vec<&str> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    let moved = |text: &str| {
        mounts.iter().fold(text.to_owned(), |text, mount| {
            let here = format!("{}{mount}", root.display());
            if text == *mount || text.starts_with(&format!("{mount}/")) {
                text.replacen(mount, &here, 1)
            } else {
                text.replace(&format!("\"{mount}/"), &format!("\"{here}/"))
            }
        })
    };
    let volumes = pod["spec"]["volumes"].as_array().unwrap();
    for mount in c["volumeMounts"].as_array().unwrap() {
        let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
        let object = if let Some(name) = volume["configMap"]["name"].as_str() {
            named(docs, "ConfigMap", name)
        } else {
            let name = volume["secret"]["secretName"].as_str().unwrap();
            named(docs, "Secret", name)
        }
        .unwrap_or_else(|| panic!("{name}: no object for the volume {volume}"));
        let dir = PathBuf::from(moved(mount["mountPath"].as_str().unwrap()));
        std::fs::create_dir_all(&dir).unwrap();
        for field in ["data", "binaryData"] {
            for (key, value) in object[field].as_object().into_iter().flatten() {
                let bytes = decoded(object, field, value);
                let bytes = match String::from_utf8(bytes) {
                    Ok(text) => moved(&text).into_bytes(),
                    Err(binary) => binary.into_bytes(),
                };
                std::fs::write(dir.join(key), bytes).unwrap();
            }
        }
    }
    let mut env = Vec::new();
    for from in c["envFrom"].as_array().into_iter().flatten() {
        let secret = from["secretRef"]["name"].as_str().unwrap();
        let secret =
            named(docs, "Secret", secret).unwrap_or_else(|| panic!("{name}: no Secret {secret}"));
        for (key, value) in secret["data"].as_object().unwrap() {
            let value = String::from_utf8(decoded(secret, "data", value)).unwrap();
            env.push((key.clone(), value));
        }
    }
    for (key, value) in literal_env(c) {
        env.push((key, moved(&value)));
    }
    env
}

#[tokio::test]
async fn an_operators_copy_of_the_example_is_a_configuration_kepgate_accepts_and_migrates_with() {
    let dir = TempDir(
        std::env::temp_dir().join(format!("kepgate-k8s-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();

    // As shipped, the example's placeholders are refused: nobody runs with them by mistake.
    let (_, shipped) = render(&repository().join(EXAMPLE));
    let namespace = one(&shipped, "Deployment")["metadata"]["namespace"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = operators_objects(&dir.0.join("pki"), &namespace);
    let mut docs = shipped.clone();
    docs.extend(created.iter().cloned());
    let pod = one(&docs, "Deployment")["spec"]["template"].clone();
    let env = as_process(&docs, &pod, "kepgate", &dir.0.join("shipped"));
    let out = kepgate_bin()
        .arg("check-config")
        .envs(env)
        .output()
        .unwrap();
    let refusal = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{refusal}");
    assert!(refusal.contains("openssl rand -hex 32"), "{refusal}");

    // Filled in: every object the pod names exists, in the overlay's namespace, and the image
    // is the operator's.
    let (_, mut docs) = render(&operators_overlay(&dir.0));
    let image = &one(&docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"];
    let image = image.as_str().unwrap().to_owned();
    assert!(
        image.contains('/') && !image.ends_with(":latest"),
        "{image}"
    );
    docs.extend(created);
    for doc in &docs {
        assert_eq!(doc["metadata"]["namespace"], namespace.as_str(), "{doc}");
    }
    let pod = one(&docs, "Deployment")["spec"]["template"].clone();
    let root = dir.0.join("pod");

    // The gateway's configuration, as `serve` would load it.
    let env = as_process(&docs, &pod, "kepgate", &root);
    let out = kepgate_bin()
        .arg("check-config")
        .envs(env.clone())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the example's configuration is refused:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("provider diia (diia)"), "{report}");
    let prefix = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("kepgate routes under:"))
        .unwrap()
        .trim();
    let gateway = container(&pod, "kepgate");
    for (probe, route) in [("readinessProbe", "readyz"), ("livenessProbe", "healthz")] {
        assert_eq!(
            gateway[probe]["httpGet"]["path"],
            format!("{prefix}/{route}"),
            "{probe} asks the configured route prefix"
        );
    }

    // The init container migrates a database of its own, twice at once as two new replicas
    // would (create_if_missing = false: the database exists already, as CloudNativePG makes it).
    let (url, name) = fresh_database_url();
    let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", postgres_server_url()))
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
    let migrate = container(&pod, "migrate");
    let args: Vec<&str> = migrate["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let env: Vec<(String, String)> = as_process(&docs, &pod, "migrate", &root)
        .into_iter()
        .map(|(k, v)| {
            if k == "DATABASE_URL" {
                (k, url.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    let replicas: Vec<_> = (0..2)
        .map(|_| {
            kepgate_bin()
                .args(&args)
                .envs(env.clone())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for replica in replicas {
        let out = replica.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "the init container failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied as usize, kepgate::database::MIGRATOR.iter().count());
    pool.close().await;
}
