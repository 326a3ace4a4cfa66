package dev.bourne.appliance.admin;

import dev.bourne.api.v1.FederationRelationshipMask;
import dev.bourne.api.v1.HTTPSSPIFFEProfile;
import dev.bourne.api.v1.HTTPSWebProfile;
import dev.bourne.appliance.datastore.BundleEndpointProfile;
import dev.bourne.appliance.datastore.BundleFetchState;
import dev.bourne.appliance.datastore.FederationRelationship;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import java.net.URI;
import java.time.Instant;
import java.util.Optional;

/**
 * Converts federation relationships between the TrustDomain service's messages and the datastore's records. Parsing
 * failures name the request field ({@code federation_relationships[0].bundle_endpoint_url}, ...).
 */
final class FederationProtos {
    static final String PROFILE_REQUIRED = "is required: https_web or https_spiffe";
    static final String BUNDLE_OTHER_DOMAIN = "is the bundle of %s, not of the relationship's trust domain";

    private FederationProtos() {
    }

    static URI url(String field, String value) throws InvalidRequestException {
        if (value.isEmpty()) {
            throw new InvalidRequestException(field, EntryValidator.REQUIRED);
        }
        try {
            return FederationRelationship.parseEndpointUrl(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(field, e.getMessage());
        }
    }

    static BundleEndpointProfile profile(String field, dev.bourne.api.v1.FederationRelationship proto)
            throws InvalidRequestException {
        return switch (proto.getBundleEndpointProfileCase()) {
            case HTTPS_WEB -> new BundleEndpointProfile.HttpsWeb();
            case HTTPS_SPIFFE -> new BundleEndpointProfile.HttpsSpiffe(AdminProtos.spiffeId(
                    field + ".https_spiffe.endpoint_spiffe_id", proto.getHttpsSpiffe().getEndpointSpiffeId()));
            case BUNDLEENDPOINTPROFILE_NOT_SET -> throw new InvalidRequestException(field + ".bundle_endpoint_profile",
                    PROFILE_REQUIRED);
        };
    }

    /** The bundle a request carries for {@code td}; an empty trust domain in it means {@code td}. */
    static Optional<SpiffeBundle> bundle(String field, TrustDomain td, dev.bourne.api.v1.FederationRelationship proto)
            throws InvalidRequestException {
        if (!proto.hasTrustDomainBundle()) {
            return Optional.empty();
        }
        dev.bourne.api.v1.TrustBundle bundle = proto.getTrustDomainBundle();
        if (bundle.getTrustDomain().isEmpty()) {
            bundle = bundle.toBuilder().setTrustDomain(td.name()).build();
        }
        SpiffeBundle parsed = AdminProtos.bundle(field + ".trust_domain_bundle", bundle);
        if (!parsed.trustDomain().equals(td)) {
            throw new InvalidRequestException(field + ".trust_domain_bundle.trust_domain",
                    String.format(BUNDLE_OTHER_DOMAIN, parsed.trustDomain().name()));
        }
        return Optional.of(parsed);
    }

    static FederationRelationshipMask all() {
        return FederationRelationshipMask.newBuilder().setBundleEndpointUrl(true).setBundleEndpointProfile(true)
                .setTrustDomainBundle(true).build();
    }

    static dev.bourne.api.v1.FederationRelationship toProto(FederationRelationship relationship,
            Optional<SpiffeBundle> bundle) {
        dev.bourne.api.v1.FederationRelationship.Builder b = dev.bourne.api.v1.FederationRelationship.newBuilder()
                .setTrustDomain(relationship.trustDomain().name())
                .setBundleEndpointUrl(relationship.bundleEndpointUrl().toString())
                .setCreatedAt(relationship.createdAt().getEpochSecond())
                .setUpdatedAt(relationship.updatedAt().getEpochSecond())
                .setFetchState(toProto(relationship.fetchState()));
        if (relationship.profile() instanceof BundleEndpointProfile.HttpsSpiffe spiffe) {
            b.setHttpsSpiffe(HTTPSSPIFFEProfile.newBuilder()
                    .setEndpointSpiffeId(spiffe.endpointSpiffeId().toString()));
        } else {
            b.setHttpsWeb(HTTPSWebProfile.getDefaultInstance());
        }
        bundle.ifPresent(value -> b.setTrustDomainBundle(AdminProtos.toProto(value)));
        return b.build();
    }

    private static dev.bourne.api.v1.BundleFetchState toProto(BundleFetchState state) {
        return dev.bourne.api.v1.BundleFetchState.newBuilder()
                .setLastSuccessAt(state.lastSuccessAt().map(Instant::getEpochSecond).orElse(0L))
                .setLastErrorAt(state.lastErrorAt().map(Instant::getEpochSecond).orElse(0L))
                .setLastError(state.lastError().orElse(""))
                .setNextAttemptAt(state.nextAttemptAt().map(Instant::getEpochSecond).orElse(0L))
                .setConsecutiveFailures(state.consecutiveFailures())
                .build();
    }
}
