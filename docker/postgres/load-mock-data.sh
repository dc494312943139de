#!/usr/bin/env bash
# Loads the raw e-commerce data into the database created by the postgres image.
# Runs once, from /docker-entrypoint-initdb.d, on the first start of an empty volume.
# Each mock-data/0*.sql file runs in name order, with the scale factor as the custom setting
# ecom.scale (ECOM_SCALE, default 1); psql stops at the first error.
# The entrypoint sources .sh files that are not executable, so this script avoids changing
# shell options that would outlive it (no set -u, no shopt).
set -eo pipefail

mock_data_dir="${ECOM_MOCK_DATA_DIR:-/opt/ecom/mock-data}"
scale="${ECOM_SCALE:-1}"

case "$scale" in
    ''|*[!0-9]*|0) echo "load-mock-data: ECOM_SCALE must be a positive whole number, got '$scale'" >&2; exit 1 ;;
esac

if [ ! -e "$mock_data_dir/01_schema.sql" ]; then
    echo "load-mock-data: no 01_schema.sql in $mock_data_dir (is ./postgres/mock-data mounted?)" >&2
    exit 1
fi

# the glob expands in name order: 01_schema.sql, 02_products.sql, ...
for file in "$mock_data_dir"/0*.sql; do
    echo "load-mock-data: $(basename "$file") (scale $scale)"
    PGOPTIONS="-c ecom.scale=${scale}" psql \
        -v ON_ERROR_STOP=1 \
        --quiet \
        --username "${POSTGRES_USER:-postgres}" \
        --dbname "${POSTGRES_DB:-postgres}" \
        --file "$file"
done

echo "load-mock-data: done"
