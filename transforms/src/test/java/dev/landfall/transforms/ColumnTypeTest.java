package dev.landfall.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.landfall.transforms.definition.ColumnType;
import org.junit.jupiter.api.Test;

/** The one widening rule, which schema evolution and Parquet merging both follow. */
class ColumnTypeTest {
  private static ColumnType t(String text) {
    return ColumnType.parse(text);
  }

  @Test
  void widensOnlyWhereEveryValueKeepsItsMeaning() {
    assertThat(t("int").widensTo(t("long")), is(true));
    assertThat(t("date").widensTo(t("timestamp")), is(true));
    assertThat(t("decimal(12,3)").widensTo(t("decimal(18,3)")), is(true));
    assertThat(t("string").widensTo(t("string")), is(true));

    assertThat(t("long").widensTo(t("int")), is(false));
    assertThat(t("timestamp").widensTo(t("date")), is(false));
    assertThat(t("decimal(18,3)").widensTo(t("decimal(12,3)")), is(false));
    assertThat(t("decimal(12,3)").widensTo(t("decimal(12,4)")), is(false));
    assertThat(t("int").widensTo(t("double")), is(false));
    assertThat(t("long").widensTo(t("string")), is(false));
  }
}
