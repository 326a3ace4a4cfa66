package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.core.keymanager.KeyType;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CaOptionsTest {
    private static CaOptions options(Duration caTtl, Duration x509, Duration jwt, Duration hint) {
        return new CaOptions(CaFixtures.TRUST_DOMAIN, caTtl, KeyType.EC_P256, KeyType.EC_P256, Optional.empty(), hint,
                x509, jwt);
    }

    @Test
    void x509SvidTtlAtLeastCaTtl_refusedNamingBoth() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> options(
                Duration.ofHours(2), Duration.ofHours(3), Duration.ofMinutes(5), Duration.ofMinutes(5)));
        assertEquals(String.format(CaOptions.SVID_TTL_TOO_LONG, "default_x509_svid_ttl", "3h", "2h"),
                error.getMessage());
    }

    @Test
    void jwtSvidTtlAtLeastCaTtl_refusedNamingBoth() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> options(
                Duration.ofHours(1), Duration.ofMinutes(10), Duration.ofMinutes(90), Duration.ofMinutes(5)));
        assertEquals(String.format(CaOptions.SVID_TTL_TOO_LONG, "default_jwt_svid_ttl", "1h30m", "1h"),
                error.getMessage());
    }

    @Test
    void nonPositiveDurations_refused() {
        assertEquals("refresh hint must be positive", assertThrows(IllegalArgumentException.class, () -> options(
                Duration.ofHours(1), Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ZERO)).getMessage());
        assertEquals("ca_ttl must be positive", assertThrows(IllegalArgumentException.class, () -> options(
                Duration.ofHours(-1), Duration.ofMinutes(10), Duration.ofMinutes(5), Duration.ofMinutes(5)))
                .getMessage());
    }
}
