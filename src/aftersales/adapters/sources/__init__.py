"""File sources: read CSV, Parquet, JSON Lines, CDNOW logs and Shopify exports as contract batches."""
