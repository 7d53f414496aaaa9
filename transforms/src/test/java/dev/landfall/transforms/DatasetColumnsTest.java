package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;

import dev.landfall.transforms.definition.DatasetColumns;
import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.CompactTypes;
import dev.landfall.transforms.values.DatasetSchemas;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.junit.jupiter.api.Test;

/** The definition resolved once into columns, and the clean rows' schema mapped from them. */
class DatasetColumnsTest {
  private static final DatasetDefinition BILLING = DatasetDefinition.builtIn("billing");

  @Test
  void theBillingColumnsResolveInRowOrderWithTheirTypesAndRoles() {
    List<String> described =
        DatasetColumns.of(BILLING).stream()
            .map(DatasetColumns.Column::toString)
            .collect(Collectors.toList());
    assertThat(
        described,
        contains(
            "date date not null PARTITION",
            "event_id string not null KEY",
            "event_time timestamp not null FIELD",
            "account_id string not null FIELD",
            "service string not null FIELD",
            "region string FIELD",
            "resource_id string FIELD",
            "usage_quantity decimal(12,3) FIELD",
            "unit_price decimal(12,6) FIELD",
            "cost decimal(14,4) not null FIELD",
            "currency string not null FIELD",
            "event_hour int DERIVED",
            "source_file string not null SOURCE_FILE",
            "source_line long not null SOURCE_LINE",
            "account_name string LOOKUP",
            "team string LOOKUP",
            "cost_centre string LOOKUP"));
    for (int i = 0; i < DatasetColumns.of(BILLING).size(); i++) {
      assertThat(DatasetColumns.of(BILLING).get(i).index, equalTo(i));
    }
  }

  @Test
  void theCleanSchemaIsTheOneEveryBuildSinceCompactTypesHasUsed() {
    // Written out field by field: the clean rows' schema is what the coders, the sinks and the
    // Parquet files agree on, so mapping it from the resolved columns must not change it.
    FieldType micros = FieldType.logicalType(new CompactTypes.EpochMicros());
    Schema expected =
        Schema.builder()
            .addField("date", FieldType.logicalType(SqlTypes.DATE))
            .addField("event_id", FieldType.STRING)
            .addField("event_time", micros)
            .addField("account_id", FieldType.STRING)
            .addField("service", FieldType.STRING)
            .addNullableField("region", FieldType.STRING)
            .addNullableField("resource_id", FieldType.STRING)
            .addNullableField(
                "usage_quantity", FieldType.logicalType(new CompactTypes.ScaledDecimal(3)))
            .addNullableField(
                "unit_price", FieldType.logicalType(new CompactTypes.ScaledDecimal(6)))
            .addField("cost", FieldType.logicalType(new CompactTypes.ScaledDecimal(4)))
            .addField("currency", FieldType.STRING)
            .addNullableField("event_hour", FieldType.INT32)
            .addStringField("source_file")
            .addInt64Field("source_line")
            .addNullableField("account_name", FieldType.STRING)
            .addNullableField("team", FieldType.STRING)
            .addNullableField("cost_centre", FieldType.STRING)
            .build();
    assertThat(DatasetSchemas.clean(BILLING), equalTo(expected));
  }

  @Test
  void aSplitFieldIsAListOfTextsAndRescuedColumnsComeBeforeTheLookups() {
    DatasetDefinition def =
        DatasetDefinition.fromJson(
            "{\"name\": \"tags\", \"unknownColumns\": \"rescue\","
                + " \"fields\": [{\"name\": \"id\", \"type\": \"long\", \"required\": true},"
                + " {\"name\": \"labels\", \"type\": \"string\", \"split\": \";\"}],"
                + " \"key\": [\"id\"]}");
    assertThat(
        DatasetColumns.of(def).stream()
            .map(DatasetColumns.Column::toString)
            .collect(Collectors.toList()),
        contains(
            "id long not null KEY",
            "labels string[] FIELD",
            "source_file string not null SOURCE_FILE",
            "source_line long not null SOURCE_LINE",
            "_rescued string RESCUED"));
    assertThat(
        DatasetSchemas.clean(def).getField("labels").getType(),
        equalTo(FieldType.array(FieldType.STRING).withNullable(true)));
  }
}
