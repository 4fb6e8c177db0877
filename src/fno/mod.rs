//! The F&O connector: Entra tokens, OData, operations, $batch, $metadata, retries. Knows nothing of the UI or the store.
