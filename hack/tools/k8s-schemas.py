#!/usr/bin/env python3
"""Convert Kubernetes API specs into the JSON schemas kubeconform reads, offline.

Inputs are files from Go module sources (hack/tools/k8s-schemas.sh fetches them):
  --swagger  api/openapi-spec/swagger.json of k8s.io/kubernetes (built-in kinds)
  --crd      CustomResourceDefinition YAML files (Gateway API, Prometheus Operator)
Output: OUT/<group>/<kind>_<version>.json, one standalone schema per kind and version, laid out
for `kubeconform -schema-location 'OUT/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'`
(kubeconform's .Group is "v1" for the core group, so core kinds land in OUT/v1/).

The schemas are strict like the API server: objects reject unknown fields (additionalProperties
false) unless the spec says they keep unknown fields. Types the OpenAPI spec writes as plain strings
but that YAML users write as numbers (int-or-string, quantities) accept both.
"""

import argparse
import json
import pathlib
import sys

import yaml

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
# Quantities ("100m", "1", 2) are strings in the spec; YAML gives numbers for bare values.
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}
SPECIAL_DEFINITIONS = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": INT_OR_STRING,
    "io.k8s.apimachinery.pkg.api.resource.Quantity": QUANTITY,
}
# Annotations of the spec that JSON Schema does not need (kept out to keep the files small).
DROPPED_KEYS = {
    "description",
    "x-kubernetes-group-version-kind",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-patch-merge-key",
    "x-kubernetes-patch-strategy",
    "x-kubernetes-map-type",
    "x-kubernetes-unions",
    "x-kubernetes-validations",
}


def strict(node, refs):
    """Return a copy of a spec node with strict objects and local refs; collect referenced names."""
    if isinstance(node, list):
        return [strict(item, refs) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("x-kubernetes-int-or-string"):
        return dict(INT_OR_STRING)
    out = {}
    for key, value in node.items():
        if key in DROPPED_KEYS:
            continue
        if key == "$ref":
            name = value.rsplit("/", 1)[-1]
            refs.add(name)
            out[key] = "#/definitions/" + name
        elif key == "properties":
            out[key] = {prop: strict(schema, refs) for prop, schema in value.items()}
        else:
            out[key] = strict(value, refs)
    if node.get("nullable"):
        out.pop("nullable")
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
    keeps_unknown = node.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in out and "additionalProperties" not in out and not keeps_unknown:
        out["additionalProperties"] = False
    out.pop("x-kubernetes-preserve-unknown-fields", None)
    out.pop("x-kubernetes-embedded-resource", None)
    return out


def standalone(root, definitions):
    """A schema for one kind with the transitive closure of its definitions embedded."""
    refs = set()
    schema = strict(root, refs)
    embedded = {}
    pending = sorted(refs)
    while pending:
        name = pending.pop()
        if name in embedded:
            continue
        if name in SPECIAL_DEFINITIONS:
            embedded[name] = SPECIAL_DEFINITIONS[name]
            continue
        if name not in definitions:
            raise SystemExit(f"k8s-schemas: definition {name} is referenced but not in the spec")
        found = set()
        embedded[name] = strict(definitions[name], found)
        pending.extend(sorted(found - embedded.keys()))
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    if embedded:
        schema["definitions"] = embedded
    return schema


def write(out_dir, group, version, kind, schema):
    directory = out_dir / (group or "v1")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kind.lower()}_{version}.json"
    path.write_text(json.dumps(schema, sort_keys=True) + "\n")
    return path


def from_swagger(path, out_dir):
    definitions = json.loads(path.read_text())["definitions"]
    count = 0
    for _name, definition in sorted(definitions.items()):
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            # List kinds and the like share one definition with several GVKs; each gets a file.
            write(out_dir, gvk["group"], gvk["version"], gvk["kind"], standalone(definition, definitions))
            count += 1
    return count


def from_crd(path, out_dir):
    count = 0
    for document in yaml.safe_load_all(path.read_text()):
        if not document or document.get("kind") != "CustomResourceDefinition":
            continue
        spec = document["spec"]
        for version in spec["versions"]:
            if not version.get("served"):
                continue
            root = version["schema"]["openAPIV3Schema"]
            write(out_dir, spec["group"], version["name"], spec["names"]["kind"], standalone(root, {}))
            count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--swagger", type=pathlib.Path, required=True)
    parser.add_argument("--crd", type=pathlib.Path, action="append", default=[])
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    count = from_swagger(args.swagger, args.out)
    for crd in args.crd:
        count += from_crd(crd, args.out)
    print(f"k8s-schemas: wrote {count} schemas to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
