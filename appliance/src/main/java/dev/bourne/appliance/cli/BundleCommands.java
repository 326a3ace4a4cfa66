package dev.bourne.appliance.cli;

import dev.bourne.api.v1.BatchDeleteFederatedBundleRequest;
import dev.bourne.api.v1.BatchDeleteFederatedBundleResponse;
import dev.bourne.api.v1.BatchSetFederatedBundleRequest;
import dev.bourne.api.v1.BatchSetFederatedBundleResponse;
import dev.bourne.api.v1.GetBundleRequest;
import dev.bourne.api.v1.GetFederatedBundleRequest;
import dev.bourne.api.v1.ListFederatedBundlesRequest;
import dev.bourne.api.v1.ListFederatedBundlesResponse;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bourne-server bundle show|list|set|delete}: the server's trust bundle and federated bundles. */
@Command(name = "bundle", description = "Manage trust bundles",
        subcommands = {BundleCommands.Show.class, BundleCommands.ListBundles.class, BundleCommands.Set.class,
            BundleCommands.Delete.class})
final class BundleCommands {
    static final String FORMAT_INVALID = "-format must be pem or spiffe";
    static final String ID_REQUIRED = "-id is required";
    static final String PATH_REQUIRED = "-path is required";
    static final String FILE_TOO_LARGE = "-path: the file is larger than " + SpiffeBundleJson.MAX_DOCUMENT_BYTES
            + " bytes";

    private BundleCommands() {
    }

    /** A bundle command with {@code -format pem|spiffe}. */
    abstract static class Formatted extends AdminCommand {
        @Option(names = "-format", paramLabel = "pem|spiffe", defaultValue = "pem",
                description = "Bundle format: pem (default) or spiffe (SPIFFE bundle JSON)")
        String format;

        @Override
        void check() {
            if (!format.equals("pem") && !format.equals("spiffe")) {
                throw usage(FORMAT_INVALID);
            }
        }

        String render(TrustBundle bundle) throws CliException {
            if (json()) {
                return json(bundle);
            }
            return format.equals("spiffe") ? BundleFormats.spiffe(bundle) + "\n" : BundleFormats.pem(bundle);
        }
    }

    @Command(name = "show", description = "Show the server's own trust bundle")
    static final class Show extends Formatted {
        @Override
        int run(AdminClient client, PrintWriter out) throws CliException {
            out.print(render(client.bundles().getBundle(GetBundleRequest.getDefaultInstance())));
            if (json()) {
                out.println();
            }
            return ServerCli.OK;
        }
    }

    @Command(name = "list", description = "List federated bundles")
    static final class ListBundles extends Formatted {
        @Option(names = "-id", paramLabel = "TRUST_DOMAIN", converter = Flags.Domain.class,
                description = "Only this trust domain's bundle")
        TrustDomain id;

        @Override
        int run(AdminClient client, PrintWriter out) throws CliException {
            List<TrustBundle> bundles = new ArrayList<>();
            if (id != null) {
                bundles.add(client.bundles().getFederatedBundle(GetFederatedBundleRequest.newBuilder()
                        .setTrustDomain(id.name()).build()));
            } else {
                String token = "";
                do {
                    ListFederatedBundlesResponse page = client.bundles().listFederatedBundles(
                            ListFederatedBundlesRequest.newBuilder().setPageSize(100).setPageToken(token).build());
                    bundles.addAll(page.getBundlesList());
                    token = page.getNextPageToken();
                } while (!token.isEmpty());
            }
            if (json()) {
                out.println(json(ListFederatedBundlesResponse.newBuilder().addAllBundles(bundles).build()));
                return ServerCli.OK;
            }
            for (TrustBundle bundle : bundles) {
                out.println("****************************************");
                out.println("* " + bundle.getTrustDomain());
                out.println("****************************************");
                out.print(render(bundle));
                out.println();
            }
            return ServerCli.OK;
        }
    }

    @Command(name = "set", description = "Create or replace a federated bundle")
    static final class Set extends Formatted {
        @Option(names = "-id", paramLabel = "TRUST_DOMAIN", converter = Flags.Domain.class,
                description = "The federated trust domain (spiffe://domain or domain)")
        TrustDomain id;

        @Option(names = "-path", paramLabel = "FILE", description = "The bundle file")
        Path path;

        @Override
        void check() {
            super.check();
            if (id == null) {
                throw usage(ID_REQUIRED);
            }
            if (path == null) {
                throw usage(PATH_REQUIRED);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) throws CliException {
            byte[] content;
            try {
                if (Files.size(path) > SpiffeBundleJson.MAX_DOCUMENT_BYTES) {
                    throw new CliException(FILE_TOO_LARGE);
                }
                content = Files.readAllBytes(path);
            } catch (IOException e) {
                throw new CliException("-path: cannot read " + path + ": " + e.getMessage(), e);
            }
            TrustBundle bundle = BundleFormats.toProto(BundleFormats.read(id, content, format, "-path"));
            BatchSetFederatedBundleResponse response = client.bundles().batchSetFederatedBundle(
                    BatchSetFederatedBundleRequest.newBuilder().addBundle(bundle).build());
            dev.bourne.api.v1.Status status = response.getResults(0).getStatus();
            if (json()) {
                out.println(json(response));
            } else if (status.getCode() == 0) {
                out.println("bundle set.");
            }
            return EntryCommands.report(status, "set the bundle");
        }
    }

    @Command(name = "delete", description = "Delete a federated bundle")
    static final class Delete extends AdminCommand {
        @Option(names = "-id", paramLabel = "TRUST_DOMAIN", converter = Flags.Domain.class,
                description = "The federated trust domain")
        TrustDomain id;

        @Override
        void check() {
            if (id == null) {
                throw usage(ID_REQUIRED);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            BatchDeleteFederatedBundleResponse response = client.bundles().batchDeleteFederatedBundle(
                    BatchDeleteFederatedBundleRequest.newBuilder().addTrustDomains(id.name()).build());
            dev.bourne.api.v1.Status status = response.getResults(0).getStatus();
            if (json()) {
                out.println(json(response));
            } else if (status.getCode() == 0) {
                out.println("bundle deleted.");
            }
            return EntryCommands.report(status, "delete the bundle");
        }
    }
}
