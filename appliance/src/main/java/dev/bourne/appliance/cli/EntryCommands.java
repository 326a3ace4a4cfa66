package dev.bourne.appliance.cli;

import dev.bourne.api.v1.BatchCreateEntryRequest;
import dev.bourne.api.v1.BatchCreateEntryResponse;
import dev.bourne.api.v1.BatchDeleteEntryRequest;
import dev.bourne.api.v1.BatchDeleteEntryResponse;
import dev.bourne.api.v1.BatchUpdateEntryRequest;
import dev.bourne.api.v1.BatchUpdateEntryResponse;
import dev.bourne.api.v1.CountEntriesRequest;
import dev.bourne.api.v1.CountEntriesResponse;
import dev.bourne.api.v1.EntryMask;
import dev.bourne.api.v1.GetEntryRequest;
import dev.bourne.api.v1.ListEntriesRequest;
import dev.bourne.api.v1.ListEntriesResponse;
import dev.bourne.api.v1.RegistrationEntry;
import dev.bourne.api.v1.Status;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bourne-server entry create|show|update|delete|count}: registration entries, as SPIRE's. */
@Command(name = "entry", description = "Manage registration entries",
        subcommands = {EntryCommands.Create.class, EntryCommands.Show.class, EntryCommands.Update.class,
            EntryCommands.Delete.class, EntryCommands.Count.class})
final class EntryCommands {
    static final String SPIFFE_ID_REQUIRED = "-spiffeID is required";
    static final String PARENT_REQUIRED = "-parentID or -node is required";
    static final String PARENT_AND_NODE = "-parentID and -node cannot be used together";
    static final String SELECTOR_REQUIRED = "at least one -selector is required";
    static final String ENTRY_ID_REQUIRED = "-entryID is required";
    static final String NOTHING_TO_UPDATE = "nothing to update: give at least one field flag";
    static final String TTL_TOO_LONG = "%s must be at most 2147483647 seconds";
    static final String MATCH_INVALID = "-matchSelectorsOn must be one of exact, subset, superset, any";

    private EntryCommands() {
    }

    /** The entry fields shared by create and update. */
    abstract static class EntryFields extends AdminCommand {
        @Option(names = "-spiffeID", paramLabel = "ID", converter = Flags.Id.class,
                description = "The SPIFFE ID of the workloads (or node alias)")
        SpiffeId spiffeId;

        @Option(names = "-parentID", paramLabel = "ID", converter = Flags.Id.class,
                description = "The SPIFFE ID of the parent (agent, node alias or workload)")
        SpiffeId parentId;

        @Option(names = "-node", description = "Create a node alias: the parent is the server's own ID")
        boolean node;

        @Option(names = "-selector", paramLabel = "type:value", converter = Flags.SelectorFlag.class,
                description = "A selector (repeatable), such as unix:uid:1000")
        List<Selector> selectors = new ArrayList<>();

        @Option(names = "-dns", paramLabel = "NAME", description = "A DNS SAN (repeatable)")
        List<String> dnsNames = new ArrayList<>();

        @Option(names = "-x509SVIDTTL", paramLabel = "TTL", converter = Flags.Ttl.class,
                description = "X.509-SVID lifetime (seconds or a duration such as 1h); 0: the server default")
        Duration x509SvidTtl;

        @Option(names = "-jwtSVIDTTL", paramLabel = "TTL", converter = Flags.Ttl.class,
                description = "JWT-SVID lifetime (seconds or a duration such as 5m); 0: the server default")
        Duration jwtSvidTtl;

        @Option(names = "-federatesWith", paramLabel = "TRUST_DOMAIN", converter = Flags.Domain.class,
                description = "A trust domain whose bundle the workloads receive (repeatable)")
        List<TrustDomain> federatesWith = new ArrayList<>();

        @Option(names = "-admin", arity = "0..1", description = "The workloads may call the admin API")
        Boolean admin;

        @Option(names = "-downstream", arity = "0..1", description = "The workloads are downstream servers")
        Boolean downstream;

        @Option(names = "-storeSVID", arity = "0..1", description = "The agent stores the SVID instead of serving it")
        Boolean storeSvid;

        @Option(names = "-hint", paramLabel = "TEXT", description = "A hint for workloads with several identities")
        String hint;

        void checkFields() {
            if (node && parentId != null) {
                throw usage(PARENT_AND_NODE);
            }
            ttlFits("-x509SVIDTTL", x509SvidTtl);
            ttlFits("-jwtSVIDTTL", jwtSvidTtl);
        }

        private void ttlFits(String flag, Duration ttl) {
            if (ttl != null && ttl.getSeconds() > Integer.MAX_VALUE) {
                throw usage(String.format(TTL_TOO_LONG, flag));
            }
        }

        SpiffeId parent() {
            // A node alias hangs off the server's own ID, as SPIRE's -node.
            return node ? SpiffeId.of(spiffeId.trustDomain(), "spire", "server") : parentId;
        }

        /** The request entry holding the fields given; unset fields keep their proto defaults. */
        RegistrationEntry.Builder fields() {
            RegistrationEntry.Builder b = RegistrationEntry.newBuilder();
            if (spiffeId != null) {
                b.setSpiffeId(spiffeId.toString());
            }
            if (spiffeId != null && (parentId != null || node)) {
                b.setParentId(parent().toString());
            } else if (parentId != null) {
                b.setParentId(parentId.toString());
            }
            selectors.forEach(s -> b.addSelectors(dev.bourne.api.v1.Selector.newBuilder().setType(s.type())
                    .setValue(s.value())));
            b.addAllDnsNames(dnsNames);
            if (x509SvidTtl != null) {
                b.setX509SvidTtl((int) x509SvidTtl.getSeconds());
            }
            if (jwtSvidTtl != null) {
                b.setJwtSvidTtl((int) jwtSvidTtl.getSeconds());
            }
            federatesWith.forEach(td -> b.addFederatesWith(td.name()));
            if (admin != null) {
                b.setAdmin(admin);
            }
            if (downstream != null) {
                b.setDownstream(downstream);
            }
            if (storeSvid != null) {
                b.setStoreSvid(storeSvid);
            }
            if (hint != null) {
                b.setHint(hint);
            }
            return b;
        }
    }

    @Command(name = "create", description = "Create a registration entry")
    static final class Create extends EntryFields {
        @Option(names = "-entryID", paramLabel = "ID", description = "A chosen entry ID (default: random)")
        String entryId;

        @Override
        void check() {
            checkFields();
            if (spiffeId == null) {
                throw usage(SPIFFE_ID_REQUIRED);
            }
            if (parentId == null && !node) {
                throw usage(PARENT_REQUIRED);
            }
            if (selectors.isEmpty()) {
                throw usage(SELECTOR_REQUIRED);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            RegistrationEntry.Builder entry = fields();
            if (entryId != null) {
                entry.setId(entryId);
            }
            BatchCreateEntryResponse response = client.entries().batchCreateEntry(
                    BatchCreateEntryRequest.newBuilder().addEntries(entry).build());
            BatchCreateEntryResponse.Result result = response.getResults(0);
            if (json()) {
                out.println(json(response));
            } else if (result.getStatus().getCode() == 0) {
                Pretty.entry(out, result.getEntry());
            }
            return report(result.getStatus(), "create the entry");
        }
    }

    @Command(name = "update", description = "Update a registration entry: only the fields given change")
    static final class Update extends EntryFields {
        @Option(names = "-entryID", paramLabel = "ID", description = "The entry to update")
        String entryId;

        @Override
        void check() {
            checkFields();
            if (entryId == null) {
                throw usage(ENTRY_ID_REQUIRED);
            }
            if (node && spiffeId == null) {
                throw usage(SPIFFE_ID_REQUIRED);
            }
            if (mask().equals(EntryMask.getDefaultInstance())) {
                throw usage(NOTHING_TO_UPDATE);
            }
        }

        EntryMask mask() {
            return EntryMask.newBuilder()
                    .setSpiffeId(spiffeId != null)
                    .setParentId(parentId != null || node)
                    .setSelectors(!selectors.isEmpty())
                    .setDnsNames(!dnsNames.isEmpty())
                    .setX509SvidTtl(x509SvidTtl != null)
                    .setJwtSvidTtl(jwtSvidTtl != null)
                    .setFederatesWith(!federatesWith.isEmpty())
                    .setAdmin(admin != null)
                    .setDownstream(downstream != null)
                    .setStoreSvid(storeSvid != null)
                    .setHint(hint != null)
                    .build();
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            BatchUpdateEntryResponse response = client.entries().batchUpdateEntry(BatchUpdateEntryRequest.newBuilder()
                    .addEntries(fields().setId(entryId)).setInputMask(mask()).build());
            BatchUpdateEntryResponse.Result result = response.getResults(0);
            if (json()) {
                out.println(json(response));
            } else if (result.getStatus().getCode() == 0) {
                Pretty.entry(out, result.getEntry());
            }
            return report(result.getStatus(), "update the entry");
        }
    }

    /** Fails the command with the server's per-entry status, as SPIRE's "Failed to ... the following entry". */
    static int report(Status status, String verb) {
        if (status.getCode() == 0) {
            return ServerCli.OK;
        }
        throw new EntryFailedException("failed to " + verb + " (code "
                + io.grpc.Status.fromCodeValue(status.getCode()).getCode() + "): " + status.getMessage());
    }

    /** A batch item the server refused; the message is the server's per-item status. */
    static final class EntryFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        EntryFailedException(String message) {
            super(message);
        }
    }

    @Command(name = "show", description = "Show registration entries")
    static final class Show extends AdminCommand {
        @Option(names = "-entryID", paramLabel = "ID", description = "Only this entry")
        String entryId;

        @Option(names = "-spiffeID", paramLabel = "ID", converter = Flags.Id.class,
                description = "Only entries with this SPIFFE ID")
        SpiffeId spiffeId;

        @Option(names = "-parentID", paramLabel = "ID", converter = Flags.Id.class,
                description = "Only entries with this parent ID")
        SpiffeId parentId;

        @Option(names = "-selector", paramLabel = "type:value", converter = Flags.SelectorFlag.class,
                description = "Only entries matching these selectors (repeatable)")
        List<Selector> selectors = new ArrayList<>();

        @Option(names = "-matchSelectorsOn", paramLabel = "exact|subset|superset|any", defaultValue = "superset",
                description = "How -selector matches: exact, subset, superset (default) or any")
        String match;

        @Option(names = "-hint", paramLabel = "TEXT", description = "Only entries with this hint")
        String hint;

        @Override
        void check() {
            if (!List.of("exact", "subset", "superset", "any").contains(match)) {
                throw usage(MATCH_INVALID);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            List<RegistrationEntry> entries = new ArrayList<>();
            if (entryId != null) {
                entries.add(client.entries().getEntry(GetEntryRequest.newBuilder().setId(entryId).build()));
            } else {
                ListEntriesRequest.Filter.Builder filter = ListEntriesRequest.Filter.newBuilder();
                if (spiffeId != null) {
                    filter.setBySpiffeId(spiffeId.toString());
                }
                if (parentId != null) {
                    filter.setByParentId(parentId.toString());
                }
                if (!selectors.isEmpty()) {
                    selectors.forEach(s -> filter.addBySelectors(dev.bourne.api.v1.Selector.newBuilder()
                            .setType(s.type()).setValue(s.value())));
                    filter.setSelectorMatch(match);
                }
                if (hint != null) {
                    filter.setByHint(hint);
                }
                String token = "";
                do {
                    ListEntriesResponse page = client.entries().listEntries(ListEntriesRequest.newBuilder()
                            .setFilter(filter).setPageSize(PAGE_SIZE).setPageToken(token).build());
                    entries.addAll(page.getEntriesList());
                    token = page.getNextPageToken();
                } while (!token.isEmpty());
            }
            if (json()) {
                out.println(json(ListEntriesResponse.newBuilder().addAllEntries(entries).build()));
                return ServerCli.OK;
            }
            out.println("Found " + entries.size() + (entries.size() == 1 ? " entry" : " entries"));
            entries.forEach(e -> Pretty.entry(out, e));
            return ServerCli.OK;
        }
    }

    static final int PAGE_SIZE = 500;

    @Command(name = "delete", description = "Delete a registration entry")
    static final class Delete extends AdminCommand {
        @Option(names = "-entryID", paramLabel = "ID", description = "The entry to delete")
        String entryId;

        @Override
        void check() {
            if (entryId == null || entryId.isEmpty()) {
                throw usage(ENTRY_ID_REQUIRED);
            }
        }

        @Override
        int run(AdminClient client, PrintWriter out) {
            BatchDeleteEntryResponse response = client.entries().batchDeleteEntry(
                    BatchDeleteEntryRequest.newBuilder().addIds(entryId).build());
            Status status = response.getResults(0).getStatus();
            if (json()) {
                out.println(json(response));
            } else if (status.getCode() == 0) {
                out.println("Deleted entry with ID: " + entryId);
            }
            return report(status, "delete the entry");
        }
    }

    @Command(name = "count", description = "Count registration entries")
    static final class Count extends AdminCommand {
        @Override
        int run(AdminClient client, PrintWriter out) {
            CountEntriesResponse response = client.entries().countEntries(CountEntriesRequest.getDefaultInstance());
            if (json()) {
                out.println(json(response));
            } else {
                out.println(response.getCount() + " registration " + (response.getCount() == 1 ? "entry" : "entries"));
            }
            return ServerCli.OK;
        }
    }
}
