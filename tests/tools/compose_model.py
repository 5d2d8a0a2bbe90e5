#!/usr/bin/env python3
"""What `docker compose -f A -f B … up` would run, without a Docker engine.

Validates every file against the Compose Specification's JSON schema (the pinned copy in
tests/fixtures/compose-spec/), resolves `extends` within each file (as compose-go does, before merging), merges the files as
the specification's "Merge and override" says (mappings merged, `command`/`entrypoint`/
`healthcheck.test` replaced, `ports`/`volumes` unique by their key, `!reset` and `!override`), and
fills each service's entrypoint and command from the Dockerfile it builds when the file leaves
them out. Prints the services as JSON: what the integration tests start as processes.

Only the parts of the specification kepgate's compose files use are implemented; anything else
is refused by name rather than guessed.

Usage: compose_model.py SCHEMA DOCKERFILE FILE [FILE…]
"""

import json
import os
import sys

import jsonschema
import yaml

SHELL_COMMANDS = {"command", "entrypoint"}


class Reset:
    """`!reset`: the attribute is removed from the merged model."""


class Override:
    """`!override value`: the attribute replaces the earlier one instead of merging."""

    def __init__(self, value):
        self.value = value


class Loader(yaml.SafeLoader):
    pass


def _reset(loader, node):
    return Reset()


def _override(loader, node):
    if isinstance(node, yaml.MappingNode):
        return Override(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    return Override(loader.construct_scalar(node))


Loader.add_constructor("!reset", _reset)
Loader.add_constructor("!override", _override)


def plain(value):
    """The file as the schema sees it: tags resolved to their values."""
    if isinstance(value, Reset):
        return None
    if isinstance(value, Override):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not isinstance(v, Reset)}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def environment_map(value):
    if isinstance(value, list):
        out = {}
        for item in value:
            key, _, val = str(item).partition("=")
            out[key] = val
        return out
    return dict(value or {})


def port_key(entry):
    return str(entry)


def volume_target(entry):
    if isinstance(entry, dict):
        return entry["target"]
    parts = str(entry).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def merge_unique(old, new, key):
    merged = {key(e): e for e in old}
    for e in new:
        merged[key(e)] = e
    return list(merged.values())


def merge(old, new, path=()):
    if isinstance(new, Reset):
        return None
    if isinstance(new, Override):
        return plain(new.value)
    name = path[-1] if path else None
    if name in SHELL_COMMANDS or path[-2:] == ("healthcheck", "test"):
        return plain(new)
    if name == "environment":
        env = environment_map(old)
        for k, v in environment_map(new).items():
            if isinstance(v, Reset):
                env.pop(k, None)
            else:
                env[k] = v
        return env
    if isinstance(old, dict) and isinstance(new, dict):
        out = dict(old)
        for k, v in new.items():
            merged = merge(old.get(k), v, path + (k,))
            if merged is None and (isinstance(v, Reset) or v is None):
                out.pop(k, None)
            else:
                out[k] = merged
        return out
    if isinstance(old, list) and isinstance(new, list):
        if name == "ports":
            return merge_unique(old, plain(new), port_key)
        if name == "volumes":
            return merge_unique(old, plain(new), volume_target)
        return old + [v for v in plain(new) if v not in old]
    return plain(new)


def load(path, validator):
    document = yaml.load(open(path, encoding="utf-8"), Loader=Loader)
    errors = sorted(validator.iter_errors(plain(document)), key=lambda e: list(e.path))
    if errors:
        for error in errors:
            where = "/".join(str(p) for p in error.path) or "(top)"
            print(f"{path}: {where}: {error.message}", file=sys.stderr)
        sys.exit(1)
    return document


def resolve_extends(path, document, validator, seen=()):
    """A file's services with `extends` resolved inside that file, before it is merged with the
    other files (as compose-go's loader does): `extends: {service: x}` means x of this same file,
    `extends: {file: f, service: x}` x of f (relative to this file)."""
    services = document.get("services") or {}
    resolved = {}

    def resolve(name, chain=()):
        if name in resolved:
            return resolved[name]
        if (path, name) in seen or name in chain:
            sys.exit(f"compose: extends cycle through {name} in {path}")
        if name not in services:
            sys.exit(f"compose: {path} has no service {name}")
        service = services[name]
        extends = service.get("extends")
        if extends is None:
            resolved[name] = service
            return service
        if isinstance(extends, str):
            extends = {"service": extends}
        if "file" in extends:
            other = os.path.join(os.path.dirname(path), extends["file"])
            other_services = resolve_extends(other, load(other, validator), validator,
                                             seen + ((path, name),))
            if extends["service"] not in other_services:
                sys.exit(f"compose: {other} has no service {extends['service']}")
            base = other_services[extends["service"]]
        else:
            base = resolve(extends["service"], chain + (name,))
        own = {k: v for k, v in service.items() if k != "extends"}
        resolved[name] = merge(base, own)
        return resolved[name]

    return {name: resolve(name) for name in services}


def depends_on(value):
    """The short (list) form is `condition: service_started` for each."""
    if isinstance(value, list):
        return {name: {"condition": "service_started"} for name in value}
    return value or {}


def dockerfile_defaults(path):
    """The last stage's exec-form ENTRYPOINT and CMD."""
    entrypoint, command = None, None
    continued = False
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        # A continuation (`HEALTHCHECK … \` then `CMD …`) is not an instruction of its own.
        was_continued, continued = continued, line.endswith("\\")
        if was_continued:
            continue
        if line.upper().startswith("FROM "):
            entrypoint, command = None, None
        elif line.startswith("ENTRYPOINT "):
            entrypoint = json.loads(line[len("ENTRYPOINT "):])
        elif line.startswith("CMD "):
            command = json.loads(line[len("CMD "):])
    return entrypoint, command


def as_list(value):
    if value is None or isinstance(value, list):
        return value
    sys.exit(f"compose: the string form of command/entrypoint is not supported: {value!r}")


def main(schema_path, dockerfile, files):
    schema = json.load(open(schema_path, encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    model = {}
    for file in files:
        document = load(file, validator)
        document["services"] = resolve_extends(file, document, validator)
        model = merge(model, document)
    services = model.get("services", {})
    entrypoint, command = dockerfile_defaults(dockerfile)
    out = {}
    for name, service in services.items():
        builds = "build" in service
        out[name] = {
            "image": service.get("image"),
            "builds": builds,
            "entrypoint": as_list(service.get("entrypoint", entrypoint if builds else None)),
            # A service that sets its entrypoint drops the image's CMD, as Docker does.
            "command": as_list(
                service.get("command", command if builds and "entrypoint" not in service else None)
            ),
            "environment": {k: "" if v is None else str(v) for k, v in environment_map(service.get("environment")).items()},
            "user": service.get("user"),
            "ports": [str(p) for p in service.get("ports") or []],
            "volumes": service.get("volumes") or [],
            "depends_on": depends_on(service.get("depends_on")),
            "healthcheck": service.get("healthcheck"),
        }
    json.dump({"services": out, "volumes": sorted((model.get("volumes") or {}).keys())}, sys.stdout, indent=1)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
