{#-
    generate_surrogate_key(field_list)

    Builds a surrogate key: an md5 hash of the given columns, cast to text and joined with '-'.
    Same name, argument and output as dbt_utils.generate_surrogate_key, so that switching
    packages does not change a single key.

    Why the placeholder for nulls? concat() with a null gives null in most databases, so
    ('a', null) and (null, 'a') would both hash to null: two different rows, one (missing) key.
    Replacing null with a fixed string that never appears in real data keeps them apart.
-#}
{%- macro generate_surrogate_key(field_list) -%}
    {{ return(adapter.dispatch('generate_surrogate_key', 'ecom_utils')(field_list)) }}
{%- endmacro -%}

{%- macro default__generate_surrogate_key(field_list) -%}
    {%- if field_list is string or field_list | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "generate_surrogate_key expects a non-empty list of column names or expressions, got: "
            ~ field_list) }}
    {%- endif -%}

    {#- the same placeholder as dbt_utils, so keys are identical whichever package built them -#}
    {%- set null_placeholder = "'_dbt_utils_surrogate_key_null_'" -%}
    {%- set parts = [] -%}

    {%- for field in field_list -%}
        {%- do parts.append(
            "coalesce(" ~ dbt.cast(field, dbt.type_string()) ~ ", " ~ null_placeholder ~ ")"
        ) -%}
        {%- if not loop.last -%}
            {%- do parts.append("'-'") -%}
        {%- endif -%}
    {%- endfor -%}

    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro -%}
