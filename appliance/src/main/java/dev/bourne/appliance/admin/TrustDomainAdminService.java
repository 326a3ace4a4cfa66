package dev.bourne.appliance.admin;

import dev.bourne.api.v1.BatchCreateFederationRelationshipRequest;
import dev.bourne.api.v1.BatchCreateFederationRelationshipResponse;
import dev.bourne.api.v1.BatchDeleteFederationRelationshipRequest;
import dev.bourne.api.v1.BatchDeleteFederationRelationshipResponse;
import dev.bourne.api.v1.BatchUpdateFederationRelationshipRequest;
import dev.bourne.api.v1.BatchUpdateFederationRelationshipResponse;
import dev.bourne.api.v1.FederationRelationshipMask;
import dev.bourne.api.v1.GetFederationRelationshipRequest;
import dev.bourne.api.v1.ListFederationRelationshipsRequest;
import dev.bourne.api.v1.ListFederationRelationshipsResponse;
import dev.bourne.api.v1.RefreshBundleRequest;
import dev.bourne.api.v1.RefreshBundleResponse;
import dev.bourne.api.v1.TrustDomainGrpc;
import dev.bourne.appliance.datastore.BundleEndpointProfile;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.FederationRelationship;
import dev.bourne.appliance.datastore.Page;
import dev.bourne.appliance.datastore.PageRequest;
import dev.bourne.appliance.federation.FederationRefresher;
import dev.bourne.appliance.federation.RefreshOutcome;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TrustDomain service: federation relationships (SPIRE's shape) and on-demand bundle refresh. Changes reach the
 * federation client at once. A relationship's {@code https_spiffe} endpoint must be verifiable from the start: a
 * bundle of the endpoint SPIFFE ID's trust domain must be given (bootstrap) or already stored, or be this server's own.
 */
final class TrustDomainAdminService extends TrustDomainGrpc.TrustDomainImplBase {
    static final String NOT_FOUND = "no federation relationship with trust domain %s";
    static final String OWN_TRUST_DOMAIN = "is the server's own trust domain: it cannot federate with itself";
    /** Format arguments: the endpoint's trust domain. */
    static final String NO_ENDPOINT_BUNDLE = "no bundle of trust domain %s to authenticate the endpoint: give a"
            + " bootstrap bundle (trust_domain_bundle) or set it first with 'bundle set'";
    static final String PAGE_TOKEN_INVALID = "is not a token this server returned";

    private static final Logger LOG = LoggerFactory.getLogger(TrustDomainAdminService.class);

    private final DataStore dataStore;
    private final TrustDomain trustDomain;
    private final FederationRefresher refresher;

    TrustDomainAdminService(DataStore dataStore, TrustDomain trustDomain, FederationRefresher refresher) {
        this.dataStore = dataStore;
        this.trustDomain = trustDomain;
        this.refresher = refresher;
    }

    @Override
    public void listFederationRelationships(ListFederationRelationshipsRequest request,
            StreamObserver<ListFederationRelationshipsResponse> observer) {
        AdminErrors.unary(observer, () -> {
            PageRequest page = AdminLimits.page(request.getPageSize(), request.getPageToken());
            Page<FederationRelationship> result;
            try {
                result = dataStore.listFederationRelationships(page);
            } catch (dev.bourne.appliance.datastore.InvalidArgumentException e) {
                throw new InvalidRequestException("page_token", PAGE_TOKEN_INVALID);
            }
            ListFederationRelationshipsResponse.Builder b = ListFederationRelationshipsResponse.newBuilder();
            for (FederationRelationship relationship : result.items()) {
                b.addFederationRelationships(FederationProtos.toProto(relationship,
                        dataStore.getBundle(relationship.trustDomain())));
            }
            result.nextPageToken().ifPresent(b::setNextPageToken);
            return b.build();
        });
    }

    @Override
    public void getFederationRelationship(GetFederationRelationshipRequest request,
            StreamObserver<dev.bourne.api.v1.FederationRelationship> observer) {
        AdminErrors.unary(observer, () -> {
            TrustDomain td = AdminProtos.trustDomain("trust_domain", request.getTrustDomain());
            FederationRelationship relationship = dataStore.getFederationRelationship(td).orElseThrow(
                    () -> new UnknownResourceException(String.format(NOT_FOUND, td.name())));
            return FederationProtos.toProto(relationship, dataStore.getBundle(td));
        });
    }

    @Override
    public void batchCreateFederationRelationship(BatchCreateFederationRelationshipRequest request,
            StreamObserver<BatchCreateFederationRelationshipResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.batch("federation_relationships", request.getFederationRelationshipsCount());
            BatchCreateFederationRelationshipResponse.Builder b = BatchCreateFederationRelationshipResponse
                    .newBuilder();
            for (int i = 0; i < request.getFederationRelationshipsCount(); i++) {
                String field = "federation_relationships[" + i + "]";
                dev.bourne.api.v1.FederationRelationship proto = request.getFederationRelationships(i);
                BatchCreateFederationRelationshipResponse.Result.Builder result =
                        BatchCreateFederationRelationshipResponse.Result.newBuilder();
                try {
                    TrustDomain td = foreign(field + ".trust_domain", proto.getTrustDomain());
                    URI url = FederationProtos.url(field + ".bundle_endpoint_url", proto.getBundleEndpointUrl());
                    BundleEndpointProfile profile = FederationProtos.profile(field, proto);
                    Optional<SpiffeBundle> bootstrap = FederationProtos.bundle(field, td, proto);
                    FederationRelationship relationship = FederationRelationship.of(td, url, profile);
                    requireEndpointBundle(field, relationship, bootstrap);
                    FederationRelationship created = dataStore.createFederationRelationship(relationship, bootstrap);
                    result.setStatus(AdminErrors.OK).setFederationRelationship(
                            FederationProtos.toProto(created, dataStore.getBundle(td)));
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto());
                }
                b.addResults(result);
            }
            changed();
            return b.build();
        });
    }

    @Override
    public void batchUpdateFederationRelationship(BatchUpdateFederationRelationshipRequest request,
            StreamObserver<BatchUpdateFederationRelationshipResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.batch("federation_relationships", request.getFederationRelationshipsCount());
            FederationRelationshipMask mask = request.hasInputMask() ? request.getInputMask()
                    : FederationProtos.all();
            BatchUpdateFederationRelationshipResponse.Builder b = BatchUpdateFederationRelationshipResponse
                    .newBuilder();
            for (int i = 0; i < request.getFederationRelationshipsCount(); i++) {
                String field = "federation_relationships[" + i + "]";
                dev.bourne.api.v1.FederationRelationship proto = request.getFederationRelationships(i);
                BatchUpdateFederationRelationshipResponse.Result.Builder result =
                        BatchUpdateFederationRelationshipResponse.Result.newBuilder();
                try {
                    TrustDomain td = foreign(field + ".trust_domain", proto.getTrustDomain());
                    FederationRelationship current = dataStore.getFederationRelationship(td).orElseThrow(
                            () -> new UnknownResourceException(String.format(NOT_FOUND, td.name())));
                    URI url = mask.getBundleEndpointUrl()
                            ? FederationProtos.url(field + ".bundle_endpoint_url", proto.getBundleEndpointUrl())
                            : current.bundleEndpointUrl();
                    BundleEndpointProfile profile = mask.getBundleEndpointProfile()
                            ? FederationProtos.profile(field, proto) : current.profile();
                    Optional<SpiffeBundle> bundle = mask.getTrustDomainBundle()
                            ? FederationProtos.bundle(field, td, proto) : Optional.empty();
                    FederationRelationship next = FederationRelationship.of(td, url, profile);
                    requireEndpointBundle(field, next, bundle);
                    if (bundle.isPresent()) {
                        // An operator's local update of the foreign bundle (Federation 4.2): the latest until the
                        // next fetch replaces it.
                        dataStore.setBundle(bundle.get());
                    }
                    FederationRelationship updated = dataStore.updateFederationRelationship(next);
                    result.setStatus(AdminErrors.OK).setFederationRelationship(
                            FederationProtos.toProto(updated, dataStore.getBundle(td)));
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto());
                }
                b.addResults(result);
            }
            changed();
            return b.build();
        });
    }

    @Override
    public void batchDeleteFederationRelationship(BatchDeleteFederationRelationshipRequest request,
            StreamObserver<BatchDeleteFederationRelationshipResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.batch("trust_domains", request.getTrustDomainsCount());
            BatchDeleteFederationRelationshipResponse.Builder b = BatchDeleteFederationRelationshipResponse
                    .newBuilder();
            for (int i = 0; i < request.getTrustDomainsCount(); i++) {
                String name = request.getTrustDomains(i);
                BatchDeleteFederationRelationshipResponse.Result.Builder result =
                        BatchDeleteFederationRelationshipResponse.Result.newBuilder().setTrustDomain(name);
                try {
                    dataStore.deleteFederationRelationship(
                            AdminProtos.trustDomain("trust_domains[" + i + "]", name));
                    result.setStatus(AdminErrors.OK);
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto());
                }
                b.addResults(result);
            }
            changed();
            return b.build();
        });
    }

    @Override
    public void refreshBundle(RefreshBundleRequest request, StreamObserver<RefreshBundleResponse> observer) {
        AdminErrors.unary(observer, () -> {
            TrustDomain td = AdminProtos.trustDomain("trust_domain", request.getTrustDomain());
            RefreshOutcome outcome = refresher.refresh(td).orElseThrow(
                    () -> new UnknownResourceException(String.format(NOT_FOUND, td.name())));
            RefreshBundleResponse.Builder b = RefreshBundleResponse.newBuilder();
            if (outcome instanceof RefreshOutcome.Failed failed) {
                throw new RefreshFailedException("refreshing the bundle of " + td.name() + " failed: "
                        + failed.reason());
            } else if (outcome instanceof RefreshOutcome.Stored stored) {
                b.setOutcome("stored").setBundle(AdminProtos.toProto(stored.bundle()));
            } else if (outcome instanceof RefreshOutcome.Unchanged unchanged) {
                b.setOutcome("unchanged").setBundle(AdminProtos.toProto(unchanged.bundle()));
            }
            dataStore.getFederationRelationship(td).ifPresent(relationship -> {
                try {
                    b.setFederationRelationship(FederationProtos.toProto(relationship, dataStore.getBundle(td)));
                } catch (DataStoreException e) {
                    LOG.debug("cannot read the bundle of {} back", td, e);
                }
            });
            return b.build();
        });
    }

    private TrustDomain foreign(String field, String name) throws InvalidRequestException {
        TrustDomain td = AdminProtos.trustDomain(field, name);
        if (td.equals(trustDomain)) {
            throw new InvalidRequestException(field, OWN_TRUST_DOMAIN);
        }
        return td;
    }

    /**
     * An {@code https_spiffe} endpoint is authenticated with the bundle of its SPIFFE ID's trust domain: refuse a
     * relationship that could never be fetched because no such bundle exists.
     */
    private void requireEndpointBundle(String field, FederationRelationship relationship,
            Optional<SpiffeBundle> given) throws InvalidRequestException, DataStoreException {
        if (!(relationship.profile() instanceof BundleEndpointProfile.HttpsSpiffe spiffe)) {
            return;
        }
        TrustDomain endpointDomain = spiffe.endpointSpiffeId().trustDomain();
        if (endpointDomain.equals(trustDomain)
                || (given.isPresent() && given.get().trustDomain().equals(endpointDomain))
                || dataStore.getBundle(endpointDomain).isPresent()) {
            return;
        }
        throw new InvalidRequestException(field + ".https_spiffe.endpoint_spiffe_id",
                String.format(NO_ENDPOINT_BUNDLE, endpointDomain.name()));
    }

    /** Lets the federation client see the change now rather than at its next reload. */
    private void changed() {
        try {
            refresher.reload();
        } catch (DataStoreException e) {
            LOG.warn("federation: cannot reload the relationships after a change: {}", e.getMessage());
        }
    }
}
