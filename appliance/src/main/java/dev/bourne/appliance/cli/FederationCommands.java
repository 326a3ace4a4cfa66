package dev.bourne.appliance.cli;

import dev.bourne.api.v1.BatchCreateFederationRelationshipRequest;
import dev.bourne.api.v1.BatchCreateFederationRelationshipResponse;
import dev.bourne.api.v1.BatchDeleteFederationRelationshipRequest;
import dev.bourne.api.v1.BatchDeleteFederationRelationshipResponse;
import dev.bourne.api.v1.BatchUpdateFederationRelationshipRequest;
import dev.bourne.api.v1.BatchUpdateFederationRelationshipResponse;
import dev.bourne.api.v1.BundleFetchState;
import dev.bourne.api.v1.FederationRelationship;
import dev.bourne.api.v1.FederationRelationshipMask;
import dev.bourne.api.v1.GetFederationRelationshipRequest;
import dev.bourne.api.v1.HTTPSSPIFFEProfile;
import dev.bourne.api.v1.HTTPSWebProfile;
import dev.bourne.api.v1.ListFederationRelationshipsRequest;
import dev.bourne.api.v1.ListFederationRelationshipsResponse;
import dev.bourne.api.v1.RefreshBundleRequest;
import dev.bourne.api.v1.RefreshBundleResponse;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bourne-server federation create|list|show|update|delete|refresh}: federation relationships, with SPIRE's
 * flags ({@code -trustDomain -bundleEndpointURL -bundleEndpointProfile -endpointSpiffeID -trustDomainBundlePath
 * -trustDomainBundleFormat}).
 */
@Command(name = "federation", description = "Manage federation relationships",
        subcommands = {FederationCommands.Create.class, FederationCommands.ListRelationships.class,
            FederationCommands.Show.class, FederationCommands.Update.class, FederationCommands.Delete.class,
            FederationCommands.Refresh.class})
final class FederationCommands {
    static final String TRUST_DOMAIN_REQUIRED = "-trustDomain is required";
    static final String ID_REQUIRED = "-id is required";
    static final String URL_REQUIRED = "-bundleEndpointURL is required";
    static final String PROFILE_REQUIRED = "-bundleEndpointProfile is required: https_spiffe or https_web";
    static final String PROFILE_INVALID = "-bundleEndpointProfile must be https_spiffe or https_web";
    static final String ENDPOINT_ID_REQUIRED = "-endpointSpiffeID is required with -bundleEndpointProfile https_spiffe";
    static final String ENDPOINT_ID_UNEXPECTED = "-endpointSpiffeID is only for -bundleEndpointProfile https_spiffe";
    static final String FORMAT_INVALID = "-trustDomainBundleFormat must be pem or spiffe";
    static final String NOTHING_TO_UPDATE = "nothing to update: give -bundleEndpointURL, -bundleEndpointProfile or"
            + " -trustDomainBundlePath";
    static final String FILE_TOO_LARGE = "-trustDomainBundlePath: the file is larger than "
            + SpiffeBundleJson.MAX_DOCUMENT_BYTES + " bytes";

    private FederationCommands() {
    }

    /** The relationship fields shared by {@code create} and {@code update}. */
    abstract static class Fields extends AdminCommand {
        @Option(names = "-trustDomain", paramLabel = "TRUST_DOMAIN", converter = Flags.Domain.class,
                description = "The federated trust domain (domain or spiffe://domain)")
        TrustDomain trustDomain;

        @Option(names = "-bundleEndpointURL", paramLabel = "URL",
                description = "The https URL of the trust domain's SPIFFE bundle endpoint")
        String url;

        @Option(names = "-bundleEndpointProfile", paramLabel = "https_spiffe|https_web",
                description = "How the endpoint is authenticated: https_spiffe (its X.509-SVID) or https_web (Web"
                        + " PKI)")
        String profile;

        @Option(names = "-endpointSpiffeID", paramLabel = "ID", converter = Flags.Id.class,
                description = "The SPIFFE ID the endpoint presents (https_spiffe)")
        SpiffeId endpointId;

        @Option(names = "-trustDomainBundlePath", paramLabel = "FILE",
                description = "A bundle of the trust domain to start from (bootstrap); on update, replaces the"
                        + " stored bundle")
        Path bundlePath;

        @Option(names = "-trustDomainBundleFormat", paramLabel = "pem|spiffe", defaultValue = "pem",
                description = "The bundle file's format: pem (default) or spiffe (SPIFFE bundle JSON)")
        String bundleFormat;

        TrustBundle bundle;

        void checkFields() {
            if (trustDomain == null) {
                throw usage(TRUST_DOMAIN_REQUIRED);
            }
            if (profile != null && !profile.equals("https_spiffe") && !profile.equals("https_web")) {
                throw usage(PROFILE_INVALID);
            }
            if ("https_spiffe".equals(profile) && endpointId == null) {
                throw usage(ENDPOINT_ID_REQUIRED);
            }
            if (endpointId != null && !"https_spiffe".equals(profile)) {
                throw usage(ENDPOINT_ID_UNEXPECTED);
            }
            if (!bundleFormat.equals("pem") && !bundleFormat.equals("spiffe")) {
                throw usage(FORMAT_INVALID);
            }
        }

        @Override
        void load() throws CliException {
            if (bundlePath == null) {
                return;
            }
            byte[] content;
            try {
                if (Files.size(bundlePath) > SpiffeBundleJson.MAX_DOCUMENT_BYTES) {
                    throw new CliException(FILE_TOO_LARGE);
                }
                content = Files.readAllBytes(bundlePath);
            } catch (IOException e) {
                throw new CliException("-trustDomainBundlePath: cannot read " + bundlePath + ": " + e.getMessage(),
                        e);
            }
            bundle = BundleFormats.toProto(BundleFormats.read(trustDomain, content, bundleFormat,
                    "-trustDomainBundlePath"));
        }

        FederationRelationship relationship() {
            FederationRelationship.Builder b = FederationRelationship.newBuilder()
                    .setTrustDomain(trustDomain.name());
            if (url != null) {
                b.setBundleEndpointUrl(url);
            }
            if ("https_spiffe".equals(profile)) {
                b.setHttpsSpiffe(HTTPSSPIFFEProfile.newBuilder().setEndpointSpiffeId(endpointId.toString()));
            } else if ("https_web".equals(profile)) {
                b.setHttpsWeb(HTTPSWebProfile.getDefaultInstance());
            }
            if (bundle != null) {
                b.setTrustDomainBundle(bundle);
            }
            return b.build();
        }
    }

    @Command(name = "create", description = "Create a federation relationship with a foreign trust domain")
    static final class Create extends Fields {
        @Override
        void check() {
            checkFields();
            if (url == null) {
                throw usage(URL_REQUIRED);
            }
            if (profile == null) {
                throw usage(PROFILE_REQUIRED);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            BatchCreateFederationRelationshipResponse response = client.trustDomains()
                    .batchCreateFederationRelationship(BatchCreateFederationRelationshipRequest.newBuilder()
                            .addFederationRelationships(relationship()).build());
            BatchCreateFederationRelationshipResponse.Result result = response.getResults(0);
            if (json()) {
                out.println(json(response));
            } else if (result.getStatus().getCode() == 0) {
                printRelationship(out, result.getFederationRelationship(), false);
            }
            return EntryCommands.report(result.getStatus(), "create the federation relationship");
        }
    }

    @Command(name = "update", description = "Update a federation relationship: only the given fields change")
    static final class Update extends Fields {
        @Override
        void check() {
            checkFields();
            if (url == null && profile == null && bundlePath == null) {
                throw usage(NOTHING_TO_UPDATE);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            FederationRelationshipMask mask = FederationRelationshipMask.newBuilder()
                    .setBundleEndpointUrl(url != null)
                    .setBundleEndpointProfile(profile != null)
                    .setTrustDomainBundle(bundlePath != null)
                    .build();
            BatchUpdateFederationRelationshipResponse response = client.trustDomains()
                    .batchUpdateFederationRelationship(BatchUpdateFederationRelationshipRequest.newBuilder()
                            .addFederationRelationships(relationship()).setInputMask(mask).build());
            BatchUpdateFederationRelationshipResponse.Result result = response.getResults(0);
            if (json()) {
                out.println(json(response));
            } else if (result.getStatus().getCode() == 0) {
                printRelationship(out, result.getFederationRelationship(), false);
            }
            return EntryCommands.report(result.getStatus(), "update the federation relationship");
        }
    }

    @Command(name = "list", description = "List federation relationships")
    static final class ListRelationships extends AdminCommand {
        @Override
        int run(AdminClient client, PrintWriter out) {
            List<FederationRelationship> all = new ArrayList<>();
            String token = "";
            do {
                ListFederationRelationshipsResponse page = client.trustDomains().listFederationRelationships(
                        ListFederationRelationshipsRequest.newBuilder().setPageSize(100).setPageToken(token).build());
                all.addAll(page.getFederationRelationshipsList());
                token = page.getNextPageToken();
            } while (!token.isEmpty());
            if (json()) {
                out.println(json(ListFederationRelationshipsResponse.newBuilder()
                        .addAllFederationRelationships(all).build()));
                return ServerCli.OK;
            }
            out.println("Found " + all.size() + " federation relationship" + (all.size() == 1 ? "" : "s"));
            out.println();
            for (FederationRelationship relationship : all) {
                printRelationship(out, relationship, false);
            }
            return ServerCli.OK;
        }
    }

    @Command(name = "show", description = "Show a federation relationship and its last bundle fetch")
    static final class Show extends AdminCommand {
        @Option(names = {"-trustDomain", "-id"}, paramLabel = "TRUST_DOMAIN", converter = Flags.Domain.class,
                description = "The federated trust domain")
        TrustDomain trustDomain;

        @Override
        void check() {
            if (trustDomain == null) {
                throw usage(TRUST_DOMAIN_REQUIRED);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            FederationRelationship relationship = client.trustDomains().getFederationRelationship(
                    GetFederationRelationshipRequest.newBuilder().setTrustDomain(trustDomain.name()).build());
            if (json()) {
                out.println(json(relationship));
            } else {
                printRelationship(out, relationship, true);
            }
            return ServerCli.OK;
        }
    }

    @Command(name = "delete", description = "Delete a federation relationship (the federated bundle stays: see"
            + " 'bundle delete')")
    static final class Delete extends AdminCommand {
        @Option(names = {"-id", "-trustDomain"}, paramLabel = "TRUST_DOMAIN", converter = Flags.Domain.class,
                description = "The federated trust domain")
        TrustDomain trustDomain;

        @Override
        void check() {
            if (trustDomain == null) {
                throw usage(ID_REQUIRED);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            BatchDeleteFederationRelationshipResponse response = client.trustDomains()
                    .batchDeleteFederationRelationship(BatchDeleteFederationRelationshipRequest.newBuilder()
                            .addTrustDomains(trustDomain.name()).build());
            dev.bourne.api.v1.Status status = response.getResults(0).getStatus();
            if (json()) {
                out.println(json(response));
            } else if (status.getCode() == 0) {
                out.println("federation relationship deleted.");
            }
            return EntryCommands.report(status, "delete the federation relationship");
        }
    }

    @Command(name = "refresh", description = "Fetch a federated trust domain's bundle from its endpoint now")
    static final class Refresh extends AdminCommand {
        @Option(names = {"-id", "-trustDomain"}, paramLabel = "TRUST_DOMAIN", converter = Flags.Domain.class,
                description = "The federated trust domain")
        TrustDomain trustDomain;

        @Override
        void check() {
            if (trustDomain == null) {
                throw usage(ID_REQUIRED);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            RefreshBundleResponse response = client.trustDomains().refreshBundle(
                    RefreshBundleRequest.newBuilder().setTrustDomain(trustDomain.name()).build());
            if (json()) {
                out.println(json(response));
            } else {
                TrustBundle bundle = response.getBundle();
                out.println("Bundle refreshed: " + response.getOutcome() + " (sequence "
                        + (bundle.getSequenceNumber() == 0 ? "none" : bundle.getSequenceNumber()) + ")");
            }
            return ServerCli.OK;
        }
    }

    private static void line(PrintWriter out, String label, Object value) {
        out.printf("%-25s: %s%n", label, value);
    }

    static void printRelationship(PrintWriter out, FederationRelationship r, boolean withState) {
        line(out, "Trust domain", r.getTrustDomain());
        line(out, "Bundle endpoint URL", r.getBundleEndpointUrl());
        if (r.hasHttpsSpiffe()) {
            line(out, "Bundle endpoint profile", "https_spiffe");
            line(out, "Endpoint SPIFFE ID", r.getHttpsSpiffe().getEndpointSpiffeId());
        } else {
            line(out, "Bundle endpoint profile", "https_web");
        }
        if (withState) {
            TrustBundle bundle = r.getTrustDomainBundle();
            line(out, "Bundle", !r.hasTrustDomainBundle() ? "none stored"
                    : bundle.getX509AuthoritiesCount() + " X.509 authorities, " + bundle.getJwtAuthoritiesCount()
                            + " JWT authorities, sequence "
                            + (bundle.getSequenceNumber() == 0 ? "none" : bundle.getSequenceNumber()));
            BundleFetchState state = r.getFetchState();
            line(out, "Last successful fetch", time(state.getLastSuccessAt()));
            if (!state.getLastError().isEmpty()) {
                line(out, "Last fetch error", time(state.getLastErrorAt()) + ": " + state.getLastError());
            }
            line(out, "Consecutive failures", state.getConsecutiveFailures());
            line(out, "Next fetch", time(state.getNextAttemptAt()));
        }
        out.println();
    }

    private static String time(long epochSeconds) {
        return epochSeconds == 0 ? "never" : Pretty.time(epochSeconds);
    }
}
