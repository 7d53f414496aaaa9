/**
 * Pure composite transforms of landfall (no I/O): {@link dev.landfall.transforms.ParseAndValidate},
 * {@link dev.landfall.transforms.DeduplicateByKey} and {@link
 * dev.landfall.transforms.AggregateMeasures}, driven by a {@link
 * dev.landfall.transforms.definition.DatasetDefinition}.
 */
package dev.landfall.transforms;
