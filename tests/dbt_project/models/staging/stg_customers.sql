select
    id as customer_id,
    first_name || ' ' || last_name as full_name,
    email
from {{ source('shop_raw', 'customers') }}
