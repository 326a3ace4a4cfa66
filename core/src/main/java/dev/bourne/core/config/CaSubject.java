package dev.bourne.core.config;

import java.util.List;

/** The subject of the server's CA certificate ({@code ca_subject}); SPIRE's defaults are US and SPIFFE. */
public record CaSubject(List<String> country, List<String> organization, String commonName) {

    public CaSubject {
        country = List.copyOf(country);
        organization = List.copyOf(organization);
    }
}
