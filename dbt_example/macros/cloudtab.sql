{#- Where PostgreSQL and DuckDB differ, one macro per idea (adapter
    dispatch), so each model is written once. -#}

{#- The text under `key` of a JSON column (jsonb on PostgreSQL, JSON text in
    Parquet); NULL when absent or JSON null. -#}
{% macro json_text(column, key) -%}
  {{ return(adapter.dispatch('json_text', 'cloudtab_example')(column, key)) }}
{%- endmacro %}

{% macro postgres__json_text(column, key) -%}
  ({{ column }} ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
  json_extract_string({{ column }}, '$."{{ key }}"')
{%- endmacro %}

{#- A boolean under `key` of a JSON object column. -#}
{% macro json_bool(column, key) -%}
  {{ return(adapter.dispatch('json_bool', 'cloudtab_example')(column, key)) }}
{%- endmacro %}

{% macro postgres__json_bool(column, key) -%}
  ({{ column }} -> '{{ key }}')::boolean
{%- endmacro %}

{% macro duckdb__json_bool(column, key) -%}
  cast(json_extract({{ column }}, '$."{{ key }}"') as boolean)
{%- endmacro %}

{#- Elements of a JSON array column (0 for NULL). -#}
{% macro json_length(column) -%}
  {{ return(adapter.dispatch('json_length', 'cloudtab_example')(column)) }}
{%- endmacro %}

{% macro postgres__json_length(column) -%}
  coalesce(jsonb_array_length({{ column }}), 0)
{%- endmacro %}

{% macro duckdb__json_length(column) -%}
  coalesce(json_array_length({{ column }}), 0)
{%- endmacro %}

{#- `text` as a date when it is exactly a calendar date `YYYY-MM-DD`, else
    NULL (never an error: tags are free text). -#}
{% macro try_date(text) -%}
  {{ return(adapter.dispatch('try_date', 'cloudtab_example')(text)) }}
{%- endmacro %}

{% macro postgres__try_date(text) -%}
  case when {{ text }} ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' then
    case when substr({{ text }}, 9, 2)::int <= extract(day from
        make_date(substr({{ text }}, 1, 4)::int, substr({{ text }}, 6, 2)::int, 1)
        + interval '1 month' - interval '1 day')
      then to_date({{ text }}, 'YYYY-MM-DD') end
  end
{%- endmacro %}

{% macro duckdb__try_date(text) -%}
  case when regexp_full_match({{ text }}, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
    then try_strptime({{ text }}, '%Y-%m-%d')::date end
{%- endmacro %}

{#- Every resource table (kind) of cloudtab's model. A test compares this
    list with `cloudtab schema --format json`. -#}
{% macro resource_tables() -%}
  {{ return([
    'aws_account',
    'aws_dynamodb_table',
    'aws_ec2_elastic_ip',
    'aws_ec2_image',
    'aws_ec2_instance',
    'aws_ec2_instance_type',
    'aws_ec2_internet_gateway',
    'aws_ec2_key_pair',
    'aws_ec2_launch_template',
    'aws_ec2_nat_gateway',
    'aws_ec2_network_acl',
    'aws_ec2_network_interface',
    'aws_ec2_route_table',
    'aws_ec2_security_group',
    'aws_ec2_snapshot',
    'aws_ec2_subnet',
    'aws_ec2_volume',
    'aws_ec2_vpc',
    'aws_ec2_vpc_endpoint',
    'aws_ec2_vpc_peering_connection',
    'aws_eks_cluster',
    'aws_eks_nodegroup',
    'aws_elbv2_listener',
    'aws_elbv2_load_balancer',
    'aws_elbv2_target_group',
    'aws_iam_access_key',
    'aws_iam_group',
    'aws_iam_instance_profile',
    'aws_iam_policy',
    'aws_iam_role',
    'aws_iam_user',
    'aws_lambda_function',
    'aws_rds_cluster',
    'aws_rds_cluster_snapshot',
    'aws_rds_instance',
    'aws_rds_snapshot',
    'aws_rds_subnet_group',
    'aws_region',
    'aws_s3_bucket',
    'aws_sqs_queue',
  ]) }}
{%- endmacro %}
