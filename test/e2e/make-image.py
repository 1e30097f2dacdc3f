#!/usr/bin/env python3
"""Writes a one-layer OCI image archive that `ctr images import` takes.

usage: make-image.py OUT.tar NAME PATH=SOURCE...

Each PATH=SOURCE puts the file SOURCE at PATH in the layer (mode kept,
owned by root, parent directories added). NAME (e.g.
docker.io/library/reaper-e2e-tools:1) is the image's name, in the index's
io.containerd.image.name annotation. The layer is an uncompressed tar, so
its digest is also its diff id. No network, nothing but the standard
library: the e2e tests build their image here.
"""
import hashlib
import io
import json
import os
import sys
import tarfile

FIXED_TIME = 1700000000  # reproducible archives
# The node's architecture in OCI's words (what the busybox copied in is).
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
        "s390x": "s390x", "riscv64": "riscv64"}.get(os.uname().machine, os.uname().machine)


def tar_bytes(entries):
    """entries: (path, bytes or None for a directory, mode) in order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data, mode in entries:
            info = tarfile.TarInfo(path)
            info.mtime = FIXED_TIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = mode
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def layer_entries(specs):
    entries, dirs = [], set()
    for spec in specs:
        path, sep, source = spec.partition("=")
        if not sep or not path or not source:
            sys.exit(f"make-image.py: `{spec}`: expected PATH=SOURCE")
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                entries.append((d, None, 0o755))
        with open(source, "rb") as f:
            data = f.read()
        entries.append((path, data, os.stat(source).st_mode & 0o7777))
    return entries


def blob(out, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    out[f"blobs/sha256/{digest[7:]}"] = data
    return {"digest": digest, "size": len(data)}


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out_path, name, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    files = {}
    layer = tar_bytes(layer_entries(specs))
    layer_desc = blob(files, layer)
    config = {
        "architecture": ARCH,
        "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
    }
    config_desc = blob(files, json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_desc}],
    }
    manifest_desc = blob(files, json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            **manifest_desc,
            "platform": {"architecture": ARCH, "os": "linux"},
            "annotations": {
                "io.containerd.image.name": name,
                "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
            },
        }],
    }
    files["index.json"] = json.dumps(index, sort_keys=True).encode()
    files["oci-layout"] = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()
    entries = [("blobs", None, 0o755), ("blobs/sha256", None, 0o755)]
    entries += [(p, d, 0o644) for p, d in sorted(files.items())]
    with open(out_path, "wb") as f:
        f.write(tar_bytes(entries))


if __name__ == "__main__":
    main()
