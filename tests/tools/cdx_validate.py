"""Validates CycloneDX 1.5 JSON read from stdin (one document, or a JSON array of them) against
the official schema, with cyclonedx-python-lib's strict validator (the schema files it bundles,
offline): gridrun's own code has no say. Exit 0 when every document is valid; else prints why
and exits 1 (2 when the library is missing)."""

import json
import sys

try:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
except ImportError as e:  # pragma: no cover - the CI installs it (.ci/install-deps)
    print(f"cyclonedx-python-lib[json-validation] is not installed: {e}", file=sys.stderr)
    sys.exit(2)

text = sys.stdin.read()
doc = json.loads(text)
docs = doc if isinstance(doc, list) else [doc]
validator = JsonStrictValidator(SchemaVersion.V1_5)
failed = False
for i, one in enumerate(docs):
    error = validator.validate_str(json.dumps(one))
    if error is not None:
        failed = True
        # The library's error holds jsonschema's, whose text would print the whole schema.
        detail = getattr(error, "data", None)
        where = "/".join(str(p) for p in getattr(detail, "absolute_path", []))
        print(f"document {i}: at /{where}: {getattr(detail, 'message', error)}", file=sys.stderr)
print(f"{len(docs)} valid" if not failed else "invalid")
sys.exit(1 if failed else 0)
