#!/usr/bin/env python3
"""validate_toml.py SCHEMA FILE...: checks TOML files against a JSON Schema (Draft 7) with the
jsonschema package, as an editor with the schema would. Prints one line per problem,
`file: dotted.path: message`; exit 1 when there is any, 0 otherwise."""
import json
import sys
import tomllib
from pathlib import Path

from jsonschema import Draft7Validator


def main() -> int:
    schema = json.loads(Path(sys.argv[1]).read_text())
    Draft7Validator.check_schema(schema)
    validator = Draft7Validator(schema)
    problems = 0
    for name in sys.argv[2:]:
        with open(name, "rb") as f:
            document = tomllib.load(f)
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in error.absolute_path) or "(top)"
            print(f"{Path(name).name}: {where}: {error.message}")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
