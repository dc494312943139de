{#-
    Where a node's relation goes. dbt's default, which this macro keeps for every target but one:
    the target schema for a node without a custom schema, `<target schema>_<custom>` for a node
    with one (`+schema: staging` gives analytics_dev_staging).

    The `ci` target (profiles.yml; lesson 09's slim CI) puts every node into its one schema,
    `<target schema>_ci`, as CI jobs often do: a pull request's warehouse is one schema that the
    job creates and drops whole, however many custom schemas production has.
-#}

{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none or target.name == 'ci' -%}
        {{ target.schema }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
