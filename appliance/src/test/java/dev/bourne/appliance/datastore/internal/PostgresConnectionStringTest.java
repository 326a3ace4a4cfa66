package dev.bourne.appliance.datastore.internal;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PostgresConnectionStringTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "postgresql://bourne:s3cr%40t@db.example.org:5433/bourne?sslmode=verify-full|jdbc:postgresql://db.example.org:5433/bourne",
        "postgres://bourne:s3cr%40t@db.example.org:5433/bourne?sslmode=verify-full|jdbc:postgresql://db.example.org:5433/bourne",
        "jdbc:postgresql://db.example.org:5433/bourne?user=bourne&password=s3cr%40t&sslmode=verify-full|jdbc:postgresql://db.example.org:5433/bourne",
        "host=db.example.org port=5433 dbname=bourne user=bourne password='s3cr@t' sslmode=verify-full|jdbc:postgresql://db.example.org:5433/bourne",
        "  dbname = bourne host=db.example.org port=5433 user=bourne password=s3cr\\@t sslmode=verify-full |jdbc:postgresql://db.example.org:5433/bourne",
    })
    void parse_everyForm_givesUrlWithoutCredentials(String text, String url) {
        PostgresConnectionString parsed = PostgresConnectionString.parse(text);
        assertEquals(url, parsed.jdbcUrl());
        Properties properties = parsed.properties();
        assertEquals("bourne", properties.getProperty("user"));
        assertEquals("s3cr@t", properties.getProperty("password"));
        assertEquals("verify-full", properties.getProperty("sslmode"));
        assertFalse(parsed.toString().contains("s3cr"), parsed.toString());
    }

    @Test
    void parse_quotedValueWithSpacesAndEscapes() {
        PostgresConnectionString parsed = PostgresConnectionString.parse(
                "dbname=d user=u password='a b\\'c' application_name=bourne-server connect_timeout=5");
        assertEquals("a b'c", parsed.properties().getProperty("password"));
        assertEquals("bourne-server", parsed.properties().getProperty("ApplicationName"));
        assertEquals("5", parsed.properties().getProperty("connectTimeout"));
        assertEquals("jdbc:postgresql://localhost/d", parsed.jdbcUrl());
    }

    @Test
    void parse_severalHosts() {
        assertEquals("jdbc:postgresql://a:5432,b:5433/d",
                PostgresConnectionString.parse("postgresql://a:5432,b:5433/d").jdbcUrl());
        assertEquals("jdbc:postgresql://a:5432,b:5433/d",
                PostgresConnectionString.parse("host=a,b port=5432,5433 dbname=d").jdbcUrl());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''|" + PostgresConnectionString.EMPTY,
        "mysql://u:p@h/d|" + PostgresConnectionString.MALFORMED,
        "just-a-word|" + PostgresConnectionString.MALFORMED,
        "postgresql://h:5432|" + PostgresConnectionString.MISSING_DATABASE,
        "host=h user=u password=hunter2|" + PostgresConnectionString.MISSING_DATABASE,
        "postgresql://h:99999/d|" + PostgresConnectionString.BAD_PORT,
        "host=h port=x dbname=d|" + PostgresConnectionString.BAD_PORT,
        "dbname=d password='hunter2|" + PostgresConnectionString.UNTERMINATED_QUOTE,
        "postgresql://h/d?sslmode=hunter2|" + PostgresConnectionString.BAD_SSLMODE,
        "postgresql://h/d?socketFactory=evil.Factory&password=hunter2|" + PostgresConnectionString.UNKNOWN_PARAMETER
            + " \"socketFactory\"",
        "jdbc:postgresql://h/d?loggerFile=/tmp/x|" + PostgresConnectionString.UNKNOWN_PARAMETER + " \"loggerFile\"",
        "dbname=d sslfactory=x|" + PostgresConnectionString.UNKNOWN_PARAMETER + " \"sslfactory\"",
        "host=/var/run/postgresql dbname=d|" + PostgresConnectionString.UNIX_SOCKET,
    })
    void parse_malformed_isRefused_withoutQuotingValues(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PostgresConnectionString.parse(text));
        assertEquals(message, e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"));
    }

    @Test
    void properties_isACopy() {
        PostgresConnectionString parsed = PostgresConnectionString.parse("dbname=d password=p");
        parsed.properties().setProperty("password", "changed");
        assertTrue(parsed.properties().getProperty("password").equals("p"));
    }
}
