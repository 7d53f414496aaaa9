package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.landfall.transforms.definition.DatasetDefinition;
import dev.landfall.transforms.values.DatasetSchemas;
import org.junit.jupiter.api.Test;

class DatasetDefinitionTest {
  @Test
  void billingLoadsWithItsSchemas() {
    DatasetDefinition def = DatasetDefinition.builtIn("billing");
    assertThat(def.key, contains("event_id"));
    assertThat(DatasetSchemas.clean(def).getField(0).getName(), equalTo("date"));
    assertThat(def.aggregates.groupBy, contains("date", "service", "currency"));
    assertThat(
        def.aggregates.measures.get("cost").stream()
            .map(fn -> DatasetSchemas.measureColumn("cost", fn))
            .toList(),
        contains("cost_count", "cost_sum", "cost_avg", "cost_min", "cost_max", "cost_p90"));
  }

  @Test
  void unsafeNamesAreRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                DatasetDefinition.fromJson(
                    "{\"name\":\"x; DROP TABLE y\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}],"
                        + "\"key\":[\"a\"]}"));
    assertThat(e.getMessage(), containsString("not a valid name"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                DatasetDefinition.fromJson(
                    "{\"name\":\"ok\",\"fields\":[{\"name\":\"a\\\"b\",\"type\":\"string\"}],"
                        + "\"key\":[\"a\"]}"));
    assertThat(e.getMessage(), containsString("field name"));
  }

  @Test
  void mistakesAreNamed() {
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    DatasetDefinition.fromJson(
                        "{\"name\":\"d\",\"fields\":[{\"name\":\"a\",\"type\":\"text\"}],\"key\":[\"a\"]}"))
            .getMessage(),
        containsString("unknown type 'text'"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    DatasetDefinition.fromJson(
                        "{\"name\":\"d\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}],\"key\":[\"b\"]}"))
            .getMessage(),
        containsString("key column 'b'"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    DatasetDefinition.fromJson(
                        "{\"name\":\"d\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},"
                            + "{\"name\":\"n\",\"type\":\"string\",\"split\":\"|\"}],\"key\":[\"a\"],"
                            + "\"aggregates\":{\"groupBy\":[\"n\"],\"measures\":{}}}"))
            .getMessage(),
        containsString("'n' is a list"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    DatasetDefinition.fromJson(
                        "{\"name\":\"d\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}],\"key\":[\"a\"],"
                            + "\"aggregates\":{\"groupBy\":[\"a\"],\"measures\":{\"a\":[\"sum\"]}}}"))
            .getMessage(),
        containsString("must be a numeric field"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    DatasetDefinition.fromJson(
                        "{\"name\":\"d\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}],\"key\":[\"a\"],"
                            + "\"lookups\":[{\"table\":\"t\",\"on\":\"a\",\"columns\":[\"b\"],"
                            + "\"validFrom\":\"valid_from\"}]}"))
            .getMessage(),
        containsString("declare \"eventTime\" as a date or timestamp field"));
    assertThat(
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    DatasetDefinition.fromJson(
                        "{\"name\":\"d\",\"unknownColumns\":\"keep\",\"fields\":[{\"name\":\"a\","
                            + "\"type\":\"string\"}],\"key\":[\"a\"]}"))
            .getMessage(),
        containsString("use ignore (the default), rescue or reject"));
  }
}
