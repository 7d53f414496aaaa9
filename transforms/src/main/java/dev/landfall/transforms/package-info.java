/**
 * Pure composite transforms of landfall (no I/O): {@link dev.landfall.transforms.ParseAndValidate}
 * and {@link dev.landfall.transforms.DeduplicateByKey}, driven by a {@link
 * dev.landfall.transforms.definition.DatasetDefinition}. Aggregates are computed by PostgreSQL from
 * the stored rows ({@code PostgresTables.refreshAggregatesSql} in {@code io}).
 */
package dev.landfall.transforms;
