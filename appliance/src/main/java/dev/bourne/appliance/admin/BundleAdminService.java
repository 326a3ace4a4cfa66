package dev.bourne.appliance.admin;

import dev.bourne.api.v1.BatchDeleteFederatedBundleRequest;
import dev.bourne.api.v1.BatchDeleteFederatedBundleResponse;
import dev.bourne.api.v1.BatchSetFederatedBundleRequest;
import dev.bourne.api.v1.BatchSetFederatedBundleResponse;
import dev.bourne.api.v1.BundleGrpc;
import dev.bourne.api.v1.GetBundleRequest;
import dev.bourne.api.v1.GetFederatedBundleRequest;
import dev.bourne.api.v1.ListFederatedBundlesRequest;
import dev.bourne.api.v1.ListFederatedBundlesResponse;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import io.grpc.stub.StreamObserver;
import java.util.List;

/**
 * The Bundle service: the server's own trust bundle (from the CA) and the federated bundles of other trust domains
 * (in the datastore). The server's own bundle can never be set or deleted through the federated calls.
 */
final class BundleAdminService extends BundleGrpc.BundleImplBase {
    static final String NOT_FOUND = "no federated bundle for trust domain %s";
    static final String OWN_TRUST_DOMAIN = "is the server's own trust domain: its bundle comes from the CA";
    static final String PAGE_TOKEN_INVALID = "is not a token this server returned";

    private final DataStore dataStore;
    private final CaManager ca;
    private final TrustDomain trustDomain;

    BundleAdminService(DataStore dataStore, CaManager ca, TrustDomain trustDomain) {
        this.dataStore = dataStore;
        this.ca = ca;
        this.trustDomain = trustDomain;
    }

    @Override
    public void getBundle(GetBundleRequest request, StreamObserver<TrustBundle> observer) {
        AdminErrors.unary(observer, () -> AdminProtos.toProto(ca.bundle()));
    }

    /**
     * Lists federated bundles in trust domain order. The datastore returns them all at once (a handful per
     * deployment); pages are cut here with the last trust domain of the previous page as the token.
     */
    @Override
    public void listFederatedBundles(ListFederatedBundlesRequest request,
            StreamObserver<ListFederatedBundlesResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.page(request.getPageSize(), request.getPageToken());
            TrustDomain after = null;
            if (!request.getPageToken().isEmpty()) {
                try {
                    after = TrustDomain.parse(request.getPageToken());
                } catch (IllegalArgumentException e) {
                    throw new InvalidRequestException("page_token", PAGE_TOKEN_INVALID);
                }
            }
            List<SpiffeBundle> federated = federated();
            ListFederatedBundlesResponse.Builder b = ListFederatedBundlesResponse.newBuilder();
            int size = request.getPageSize() == 0 ? Integer.MAX_VALUE : request.getPageSize();
            int added = 0;
            for (int i = 0; i < federated.size(); i++) {
                SpiffeBundle bundle = federated.get(i);
                if (after != null && bundle.trustDomain().compareTo(after) <= 0) {
                    continue;
                }
                if (added == size) {
                    b.setNextPageToken(federated.get(i - 1).trustDomain().name());
                    break;
                }
                b.addBundles(AdminProtos.toProto(bundle));
                added++;
            }
            return b.build();
        });
    }

    private List<SpiffeBundle> federated() throws Exception {
        return dataStore.listBundles().stream().filter(bundle -> !bundle.trustDomain().equals(trustDomain))
                .sorted((a, c) -> a.trustDomain().compareTo(c.trustDomain())).toList();
    }

    @Override
    public void getFederatedBundle(GetFederatedBundleRequest request, StreamObserver<TrustBundle> observer) {
        AdminErrors.unary(observer, () -> {
            TrustDomain td = foreign("trust_domain", request.getTrustDomain());
            return dataStore.getBundle(td).map(AdminProtos::toProto)
                    .orElseThrow(() -> new UnknownResourceException(String.format(NOT_FOUND, td.name())));
        });
    }

    @Override
    public void batchSetFederatedBundle(BatchSetFederatedBundleRequest request,
            StreamObserver<BatchSetFederatedBundleResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.batch("bundle", request.getBundleCount());
            BatchSetFederatedBundleResponse.Builder b = BatchSetFederatedBundleResponse.newBuilder();
            for (int i = 0; i < request.getBundleCount(); i++) {
                TrustBundle proto = request.getBundle(i);
                BatchSetFederatedBundleResponse.Result.Builder result =
                        BatchSetFederatedBundleResponse.Result.newBuilder();
                try {
                    foreign("bundle[" + i + "].trust_domain", proto.getTrustDomain());
                    SpiffeBundle bundle = AdminProtos.bundle("bundle[" + i + "]", proto);
                    dataStore.setBundle(bundle);
                    result.setStatus(AdminErrors.OK).setBundle(AdminProtos.toProto(bundle));
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto());
                }
                b.addResults(result);
            }
            return b.build();
        });
    }

    @Override
    public void batchDeleteFederatedBundle(BatchDeleteFederatedBundleRequest request,
            StreamObserver<BatchDeleteFederatedBundleResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.batch("trust_domains", request.getTrustDomainsCount());
            BatchDeleteFederatedBundleResponse.Builder b = BatchDeleteFederatedBundleResponse.newBuilder();
            for (int i = 0; i < request.getTrustDomainsCount(); i++) {
                String name = request.getTrustDomains(i);
                BatchDeleteFederatedBundleResponse.Result.Builder result =
                        BatchDeleteFederatedBundleResponse.Result.newBuilder().setTrustDomain(name);
                try {
                    dataStore.deleteBundle(foreign("trust_domains[" + i + "]", name));
                    result.setStatus(AdminErrors.OK);
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto());
                }
                b.addResults(result);
            }
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
}
