package dev.bourne.core.config.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.bertramlabs.plugins.hcl4j.HCLParser;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pins what hcl4j 0.9.8 returns, with the pom's exclusions (no HTTP client, commons-net, beanutils or logging) on
 * the classpath, and what {@link HclParsing} adds on top. If an hcl4j upgrade changes any of this, these fail first.
 */
class HclParsingTest {

    private static final String SPIRE_STYLE = """
            server {
                bind_address = "0.0.0.0"
                bind_port = "8081"
                trust_domain = "example.org"
                data_dir = "./.data"
                ca_ttl = "24h"
                audit_log_enabled = true
                ca_subject {
                    country = ["US"]
                    organization = ["SPIFFE"]
                }
            }

            plugins {
                DataStore "sql" {
                    plugin_data {
                        database_type = "sqlite3"
                        connection_string = "./.data/datastore.sqlite3"
                    }
                }
                NodeAttestor "join_token" {
                    plugin_data {}
                }
                NodeAttestor "tpm" {
                    plugin_data {
                        pcr = 7
                    }
                }
                KeyManager "memory" {
                    plugin_data = {}
                }
            }
            """;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) assertInstanceOf(Map.class, value);
    }

    @Test
    void hcl4j_spireStyleConfig_parsesWithExcludedDependencies() throws Exception {
        Map<String, Object> root = new HCLParser().parse(new StringReader(SPIRE_STYLE));

        assertInstanceOf(LinkedHashMap.class, root);
        Map<String, Object> server = map(root.get("server"));
        assertEquals("8081", server.get("bind_port"));
        assertEquals(Boolean.TRUE, server.get("audit_log_enabled"));
        assertEquals(List.of("US"), map(server.get("ca_subject")).get("country"));
        assertInstanceOf(ArrayList.class, map(server.get("ca_subject")).get("country"));
        Map<String, Object> plugins = map(root.get("plugins"));
        Map<String, Object> nodeAttestors = map(plugins.get("NodeAttestor"));
        assertEquals(List.of("join_token", "tpm"), List.copyOf(nodeAttestors.keySet()));
        assertEquals(Map.of(), map(map(nodeAttestors.get("join_token")).get("plugin_data")));
        assertEquals(7.0, map(map(nodeAttestors.get("tpm")).get("plugin_data")).get("pcr"));
        assertEquals(Map.of(), map(map(map(plugins.get("KeyManager")).get("memory")).get("plugin_data")));
        assertEquals("sqlite3", map(map(map(plugins.get("DataStore")).get("sql")).get("plugin_data"))
                .get("database_type"));
    }

    static Stream<Arguments> scalarTypes() {
        return Stream.of(
                Arguments.of("8081", 8081.0),
                Arguments.of("99999999999", 99999999999.0),
                Arguments.of("-5", -5.0),
                Arguments.of("1.5", 1.5),
                Arguments.of("true", Boolean.TRUE),
                Arguments.of("false", Boolean.FALSE),
                Arguments.of("\"a\\\"b\\n\"", "a\"b\n"),
                Arguments.of("[\"a\", 1, true]", List.of("a", 1.0, true)),
                Arguments.of("[]", List.of()),
                Arguments.of("1 + 2", 3.0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scalarTypes")
    void hcl4j_values_haveTheseJavaTypes(String hcl, Object expected) throws Exception {
        Object value = map(new HCLParser().parse(new StringReader("server {\n  a = " + hcl + "\n}\n")).get("server"))
                .get("a");

        assertEquals(expected, value);
        assertEquals(expected instanceof List ? ArrayList.class : expected.getClass(), value.getClass());
    }

    @Test
    void hcl4j_sameBlockTwice_becomesListOfBodies() throws Exception {
        Map<String, Object> root = new HCLParser().parse(new StringReader(
                "server {\n a = 1\n}\nserver {\n b = 2\n}\nplugins {\n KeyManager \"memory\" {\n }\n"
                        + " KeyManager \"memory\" {\n }\n}\n"));

        assertEquals(List.of(Map.of("a", 1.0), Map.of("b", 2.0)), root.get("server"));
        assertEquals(List.of(Map.of(), Map.of()), map(map(root.get("plugins")).get("KeyManager")).get("memory"));
    }

    @Test
    void hcl4j_repeatedAttribute_keepsLastValue() throws Exception {
        Map<String, Object> root = new HCLParser().parse(new StringReader("server {\n a = 1\n a = 2\n}\n"));

        assertEquals(Map.of("a", 2.0), root.get("server"));
    }

    @Test
    void hcl4j_unquotedWord_isAnExpressionObject() throws Exception {
        Object value = map(new HCLParser().parse(new StringReader("server {\n a = example\n}\n")).get("server")).get("a");

        assertEquals("example", value.toString());
        assertEquals("com.bertramlabs.plugins.hcl4j.RuntimeSymbols.VariableTree", value.getClass().getName());
    }

    @Test
    void hcl4j_unclosedBlock_silentlyAccepted() throws Exception {
        // Why HclStructure exists: hcl4j drops the block and keeps its contents at the top level.
        Map<String, Object> root = new HCLParser().parse(new StringReader("server {\n  a = 1\n"));

        assertEquals(Map.of("a", 1.0), root);
    }

    @Test
    void hcl4j_syntaxError_isRuntimeExceptionWithLineAndColumn() {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> new HCLParser().parse(new StringReader("server {\n  a = 1\n  b = = 2\n}\n")));

        assertEquals("Illegal character <(=) - state: 14> found on line: 3 col: 7", e.getCause().getMessage());
    }

    @Test
    void hcl4j_dataBlock_needsTheExcludedHttpClient() {
        // With the pom's exclusions a data block fails with NoClassDefFoundError; HclParsing refuses it first.
        assertThrows(NoClassDefFoundError.class, () -> new HCLParser().parse(new StringReader(
                "data \"http\" \"x\" {\n  url = \"http://127.0.0.1:9/\"\n}\nserver {\n  a = data.http.x.body\n}\n")));
    }

    static Stream<Arguments> syntaxErrors() {
        return Stream.of(
                Arguments.of("server {\n  a = 1\n  b = = 2\n}\n", "line 3, column 7: unexpected \"=\""),
                Arguments.of("server {\n  a = 1\n", "line 1, column 8: '{' is never closed"),
                Arguments.of("server {\n  a = 1\n}\n}\n", "line 4, column 1: unexpected '}' with no open bracket"),
                Arguments.of("server {\n  a = [1, 2\n}\n",
                        "line 3, column 1: expected ']' to close '[' from line 2, column 7, found '}'"),
                Arguments.of("server {\n  a = \"abc\n}\n", "line 2, column 7: string is not closed on the same line"),
                Arguments.of("/* x\nserver {}\n", "line 1, column 1: comment is never closed"),
                Arguments.of("server {\n  a = <<EOF\nhello\n}\n", "line 2, column 7: heredoc <<EOF is never closed"),
                Arguments.of("a {\n".repeat(40) + "}\n".repeat(40), "line 33, column 3: nesting deeper than 32 levels"),
                Arguments.of("server {\n  a = upper(\"x\")\n}\n", "function calls are not supported: upper()"),
                Arguments.of("server {\n  a = \"x${1+2}\"\n}\n",
                        "line 2, column 9: \"${\" in a string is not supported (no interpolation)"),
                Arguments.of("data \"http\" \"x\" {\n  url = \"http://127.0.0.1:9/\"\n}\nserver {\n  a = data.http.x.body\n}\n",
                        "data blocks are not supported: data \"http\""));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("syntaxErrors")
    void parse_malformed_reportsLineAndColumn(String hcl, String expected) {
        HclSyntaxException e = assertThrows(HclSyntaxException.class, () -> HclParsing.parse(hcl));

        assertEquals(expected, e.getMessage());
    }

    @Test
    void parse_bracesInStringsCommentsAndHeredocs_ignored() throws Exception {
        Map<String, Object> root = HclParsing.parse("""
                # a comment with { and [
                // another }
                /* and ] a block */
                server {
                    a = "x { y"
                    b = <<EOF
                text with } inside
                EOF
                }
                """);

        assertEquals("x { y", map(root.get("server")).get("a"));
    }
}
