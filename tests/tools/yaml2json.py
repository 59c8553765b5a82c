"""A YAML file as JSON on stdout, read by ruamel.yaml (which check-jsonschema brings)."""
import json
import sys

from ruamel.yaml import YAML

print(json.dumps(YAML(typ="safe").load(open(sys.argv[1], encoding="utf-8"))))
