package dev.bourne.appliance.datastore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Bundle endpoint URLs as SPIFFE Federation 5.2.1.1 and 5.2.2.1 allow them. */
class FederationRelationshipTest {

    @ParameterizedTest
    @ValueSource(strings = {"https://bundles.peer.org/bundle.json", "https://127.0.0.1:8443/",
        "https://[::1]:8443/b", "HTTPS://peer.org/path?query=1", "https://peer.org"})
    void parseEndpointUrl_valid(String url) {
        assertEquals(URI.create(url), FederationRelationship.parseEndpointUrl(url));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "http://peer.org/bundle | " + FederationRelationship.URL_NOT_HTTPS,
        "ftp://peer.org/ | " + FederationRelationship.URL_NOT_HTTPS,
        "//peer.org/bundle | " + FederationRelationship.URL_NOT_HTTPS,
        "/bundle.json | " + FederationRelationship.URL_NOT_HTTPS,
        "https:opaque | " + FederationRelationship.URL_NOT_HTTPS,
        "https://user:secret@peer.org/ | " + FederationRelationship.URL_USERINFO,
        "https://user@peer.org/ | " + FederationRelationship.URL_USERINFO,
        "https:///bundle | " + FederationRelationship.URL_NO_HOST,
        "https://bad_host/ | " + FederationRelationship.URL_NO_HOST,
        "https://peer.org/a b | " + FederationRelationship.URL_INVALID,
        "https://peer.org/a\u0000b | " + FederationRelationship.URL_INVALID})
    void parseEndpointUrl_refusedWithTheReason(String url, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FederationRelationship.parseEndpointUrl(url));
        assertEquals(reason, e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void parseEndpointUrl_tooLong_refusedBeforeParsing() {
        String url = "https://peer.org/" + "a".repeat(FederationRelationship.MAX_URL_LENGTH);
        assertEquals(FederationRelationship.URL_TOO_LONG, assertThrows(IllegalArgumentException.class,
                () -> FederationRelationship.parseEndpointUrl(url)).getMessage());
    }
}
