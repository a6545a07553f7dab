"""Applies cloudtab's Snowflake DDL to the Snowflake emulator through
Snowflake's own Python connector, loads one row, and reads it back:

    python snowflake_ddl_check.py PORT DDL_FILE

Prints JSON: the column types information_schema reports for
AWS_EC2_INSTANCE, and the row read back (`tags:owner::string`, the
timestamp with microseconds and its offset).
"""

import json
import sys

import snowflake.connector


def main() -> None:
    port, ddl_file = int(sys.argv[1]), sys.argv[2]
    con = snowflake.connector.connect(
        user="cloudtab", password="unused", account="fakesnow",
        host="127.0.0.1", port=port, protocol="http",
        # The connector retries a failing request for minutes; fail fast.
        network_timeout=60, login_timeout=60,
    )
    cur = con.cursor()
    cur.execute("CREATE DATABASE IF NOT EXISTS INVENTORY")
    cur.execute("USE DATABASE INVENTORY")
    with open(ddl_file, encoding="utf-8") as f:
        for statement in con.execute_string(f.read()):
            pass
    cur.execute(
        """INSERT INTO "CLOUDTAB"."AWS_EC2_INSTANCE"
           ("_ID", "_RUN_ID", "_SYNCED_AT", "CLOUD", "ACCOUNT_ID", "REGION", "ID", "CTIME", "TAGS", "CORE_COUNT", "EBS_OPTIMIZED")
           SELECT 'uid-1', 'run-1', '2026-12-02 10:00:00.000001+00:00'::TIMESTAMP_TZ, 'aws', '123456789012',
                  'eu-west-1', 'i-1', '2026-01-02 03:04:05.123456+00:00'::TIMESTAMP_TZ,
                  PARSE_JSON(%s), 4, TRUE""",
        (json.dumps({"owner": "dan.o'neil@example.com", "env": "prod"}),),
    )
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'CLOUDTAB' AND table_name = 'AWS_EC2_INSTANCE'"
    )
    types = {name: ty for name, ty in cur.fetchall()}
    cur.execute(
        "SELECT tags:owner::string, ctime, core_count, ebs_optimized "
        "FROM cloudtab.aws_ec2_instance WHERE id = 'i-1'"
    )
    owner, ctime, cores, ebs = cur.fetchone()
    cur.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'CLOUDTAB'"
    )
    tables = cur.fetchone()[0]
    print(json.dumps({
        "types": types,
        "owner": owner,
        "ctime": ctime.isoformat(),
        "core_count": int(cores),
        "ebs_optimized": bool(ebs),
        "tables": tables,
    }))


if __name__ == "__main__":
    main()
