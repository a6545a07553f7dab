"""Reads a cloudtab Parquet snapshot from S3 with pyarrow's own S3
filesystem (no cloudtab code), the way another engine would:

    python read_s3_snapshot.py ENDPOINT BUCKET PREFIX

Prints JSON: for every table of the newest manifest, its rows and column
types; plus `partition_rows`, the rows of `_edges` found by a hive-
partitioned scan of the table's folder filtered to the newest run id (what
an Athena or Spark table over the prefix does).
"""

import json
import sys

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq


def main() -> None:
    endpoint, bucket, prefix = sys.argv[1:4]
    fs = pafs.S3FileSystem(
        access_key="testing",
        secret_key="testing",
        region="us-east-1",
        endpoint_override=endpoint,
        scheme="http",
    )
    root = f"{bucket}/{prefix}".rstrip("/")
    infos = fs.get_file_info(pafs.FileSelector(f"{root}/_manifests"))
    manifests = sorted(i.path for i in infos if i.path.endswith(".json"))
    with fs.open_input_stream(manifests[-1]) as f:
        manifest = json.loads(f.read())
    tables = {}
    for name, entry in manifest["tables"].items():
        rows = 0
        types = {}
        for file in entry["files"]:
            t = pq.read_table(f"{root}/{file['path']}", filesystem=fs)
            rows += t.num_rows
            types = {field.name: str(field.type) for field in t.schema}
        tables[name] = {"rows": rows, "types": types}
    edges = ds.dataset(f"{root}/_edges", filesystem=fs, format="parquet", partitioning="hive")
    newest = edges.to_table(filter=ds.field("run_id") == manifest["run_id"])
    print(json.dumps({"run_id": manifest["run_id"], "tables": tables, "partition_rows": newest.num_rows}))


if __name__ == "__main__":
    main()
