package dev.bourne.appliance.admin;

import dev.bourne.api.v1.BatchCreateEntryRequest;
import dev.bourne.api.v1.BatchCreateEntryResponse;
import dev.bourne.api.v1.BatchDeleteEntryRequest;
import dev.bourne.api.v1.BatchDeleteEntryResponse;
import dev.bourne.api.v1.BatchUpdateEntryRequest;
import dev.bourne.api.v1.BatchUpdateEntryResponse;
import dev.bourne.api.v1.CountEntriesRequest;
import dev.bourne.api.v1.CountEntriesResponse;
import dev.bourne.api.v1.EntryGrpc;
import dev.bourne.api.v1.GetEntryRequest;
import dev.bourne.api.v1.ListEntriesRequest;
import dev.bourne.api.v1.ListEntriesResponse;
import dev.bourne.api.v1.SyncAuthorizedEntriesRequest;
import dev.bourne.api.v1.SyncAuthorizedEntriesResponse;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.EntryField;
import dev.bourne.appliance.datastore.EntryFilter;
import dev.bourne.appliance.datastore.Limits;
import dev.bourne.appliance.datastore.Page;
import dev.bourne.appliance.datastore.PageRequest;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.datastore.SelectorMatch;
import dev.bourne.appliance.protos.EntryProtos;
import dev.bourne.core.selector.Selector;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/** The Entry service's admin RPCs: count, list, get and batch create, update and delete of registration entries. */
final class EntryAdminService extends EntryGrpc.EntryImplBase {
    static final String NOT_FOUND = "no entry with ID %s";
    static final String MATCH_INVALID = "must be one of exact, subset, superset, any";
    static final String SYNC_NOT_ADMIN = "SyncAuthorizedEntries is served to agents on the agent API, not here";

    private final DataStore dataStore;
    private final EntryValidator validator;

    EntryAdminService(DataStore dataStore, EntryValidator validator) {
        this.dataStore = dataStore;
        this.validator = validator;
    }

    @Override
    public void countEntries(CountEntriesRequest request, StreamObserver<CountEntriesResponse> observer) {
        AdminErrors.unary(observer, () -> CountEntriesResponse.newBuilder()
                .setCount((int) Math.min(Integer.MAX_VALUE, dataStore.countEntries(EntryFilter.all()))).build());
    }

    @Override
    public void listEntries(ListEntriesRequest request, StreamObserver<ListEntriesResponse> observer) {
        AdminErrors.unary(observer, () -> {
            EntryFilter filter = filter(request.getFilter());
            PageRequest page = AdminLimits.page(request.getPageSize(), request.getPageToken());
            Page<RegistrationEntry> result = dataStore.listEntries(filter, page);
            ListEntriesResponse.Builder b = ListEntriesResponse.newBuilder();
            String hint = request.getFilter().getByHint();
            for (RegistrationEntry entry : result.items()) {
                // The datastore has no hint index; the hint filter applies to each page as SPIRE's cache does.
                if (hint.isEmpty() || hint.equals(entry.hint())) {
                    b.addEntries(EntryProtos.toProto(entry));
                }
            }
            result.nextPageToken().ifPresent(b::setNextPageToken);
            return b.build();
        });
    }

    private EntryFilter filter(ListEntriesRequest.Filter proto) throws InvalidRequestException {
        EntryFilter filter = EntryFilter.all();
        if (!proto.getBySpiffeId().isEmpty()) {
            filter = filter.withSpiffeId(AdminProtos.spiffeId("filter.by_spiffe_id", proto.getBySpiffeId()));
        }
        if (!proto.getByParentId().isEmpty()) {
            filter = filter.withParentId(AdminProtos.spiffeId("filter.by_parent_id", proto.getByParentId()));
        }
        if (proto.getBySelectorsCount() > 0) {
            List<Selector> selectors = AdminProtos.selectors("filter.by_selectors", proto.getBySelectorsList());
            if (selectors.size() > Limits.MAX_SELECTORS) {
                throw new InvalidRequestException("filter.by_selectors", EntryValidator.TOO_MANY_SELECTORS);
            }
            SelectorMatch.Mode mode = switch (proto.getSelectorMatch().toLowerCase(Locale.ROOT)) {
                case "", "exact" -> SelectorMatch.Mode.EXACT;
                case "subset" -> SelectorMatch.Mode.SUBSET;
                case "superset" -> SelectorMatch.Mode.SUPERSET;
                case "any" -> SelectorMatch.Mode.ANY;
                default -> throw new InvalidRequestException("filter.selector_match", MATCH_INVALID);
            };
            filter = filter.withSelectors(new SelectorMatch(mode, selectors));
        }
        if (proto.getByHint().length() > Limits.MAX_HINT_LENGTH) {
            throw new InvalidRequestException("filter.by_hint", EntryValidator.HINT_TOO_LONG);
        }
        return filter;
    }

    @Override
    public void getEntry(GetEntryRequest request, StreamObserver<dev.bourne.api.v1.RegistrationEntry> observer) {
        AdminErrors.unary(observer, () -> {
            validator.entryId("id", request.getId());
            return dataStore.getEntry(request.getId()).map(EntryProtos::toProto)
                    .orElseThrow(() -> new UnknownResourceException(String.format(NOT_FOUND, request.getId())));
        });
    }

    @Override
    public void batchCreateEntry(BatchCreateEntryRequest request, StreamObserver<BatchCreateEntryResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.batch("entries", request.getEntriesCount());
            BatchCreateEntryResponse.Builder b = BatchCreateEntryResponse.newBuilder();
            for (dev.bourne.api.v1.RegistrationEntry proto : request.getEntriesList()) {
                BatchCreateEntryResponse.Result.Builder result = BatchCreateEntryResponse.Result.newBuilder();
                try {
                    RegistrationEntry entry = AdminProtos.entry(proto);
                    validator.validate(entry);
                    result.setEntry(EntryProtos.toProto(dataStore.createEntry(entry))).setStatus(AdminErrors.OK);
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto()).setEntry(proto);
                }
                b.addResults(result);
            }
            return b.build();
        });
    }

    @Override
    public void batchUpdateEntry(BatchUpdateEntryRequest request, StreamObserver<BatchUpdateEntryResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.batch("entries", request.getEntriesCount());
            Set<EntryField> mask = AdminProtos.mask(
                    request.hasInputMask() ? Optional.of(request.getInputMask()) : Optional.empty());
            BatchUpdateEntryResponse.Builder b = BatchUpdateEntryResponse.newBuilder();
            for (dev.bourne.api.v1.RegistrationEntry proto : request.getEntriesList()) {
                BatchUpdateEntryResponse.Result.Builder result = BatchUpdateEntryResponse.Result.newBuilder();
                try {
                    result.setEntry(EntryProtos.toProto(update(proto, mask))).setStatus(AdminErrors.OK);
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto()).setEntry(proto);
                }
                b.addResults(result);
            }
            return b.build();
        });
    }

    /** Applies the masked fields of {@code proto} to the stored entry, refusing the update unless the result is valid. */
    private RegistrationEntry update(dev.bourne.api.v1.RegistrationEntry proto, Set<EntryField> mask)
            throws Exception {
        validator.entryId("id", proto.getId());
        RegistrationEntry stored = dataStore.getEntry(proto.getId())
                .orElseThrow(() -> new UnknownResourceException(String.format(NOT_FOUND, proto.getId())));
        // Fields outside the mask may be left empty in the request: fill them from the stored entry before parsing.
        dev.bourne.api.v1.RegistrationEntry.Builder full = EntryProtos.toProto(stored).toBuilder();
        dev.bourne.api.v1.RegistrationEntry masked = overlay(full, proto, mask);
        RegistrationEntry wanted = AdminProtos.entry(masked.toBuilder().setExpiresAt(0).build());
        RegistrationEntry merged = AdminProtos.merge(stored, wanted, mask);
        validator.validate(merged);
        return dataStore.updateEntry(merged, mask, stored.revisionNumber());
    }

    private static dev.bourne.api.v1.RegistrationEntry overlay(dev.bourne.api.v1.RegistrationEntry.Builder base,
            dev.bourne.api.v1.RegistrationEntry update, Set<EntryField> mask) {
        for (EntryField field : mask) {
            switch (field) {
                case SPIFFE_ID -> base.setSpiffeId(update.getSpiffeId());
                case PARENT_ID -> base.setParentId(update.getParentId());
                case SELECTORS -> base.clearSelectors().addAllSelectors(update.getSelectorsList());
                case X509_SVID_TTL -> base.setX509SvidTtl(update.getX509SvidTtl());
                case JWT_SVID_TTL -> base.setJwtSvidTtl(update.getJwtSvidTtl());
                case FEDERATES_WITH -> base.clearFederatesWith().addAllFederatesWith(update.getFederatesWithList());
                case ADMIN -> base.setAdmin(update.getAdmin());
                case DOWNSTREAM -> base.setDownstream(update.getDownstream());
                case DNS_NAMES -> base.clearDnsNames().addAllDnsNames(update.getDnsNamesList());
                case STORE_SVID -> base.setStoreSvid(update.getStoreSvid());
                case HINT -> base.setHint(update.getHint());
            }
        }
        return base.build();
    }

    @Override
    public void batchDeleteEntry(BatchDeleteEntryRequest request, StreamObserver<BatchDeleteEntryResponse> observer) {
        AdminErrors.unary(observer, () -> {
            AdminLimits.batch("ids", request.getIdsCount());
            BatchDeleteEntryResponse.Builder b = BatchDeleteEntryResponse.newBuilder();
            for (String id : request.getIdsList()) {
                BatchDeleteEntryResponse.Result.Builder result = BatchDeleteEntryResponse.Result.newBuilder().setId(id);
                try {
                    validator.entryId("id", id);
                    dataStore.deleteEntry(id);
                    result.setStatus(AdminErrors.OK);
                } catch (Exception e) {
                    result.setStatus(AdminErrors.of(e).toProto());
                }
                b.addResults(result);
            }
            return b.build();
        });
    }

    @Override
    public void syncAuthorizedEntries(SyncAuthorizedEntriesRequest request,
            StreamObserver<SyncAuthorizedEntriesResponse> observer) {
        observer.onError(Status.UNIMPLEMENTED.withDescription(SYNC_NOT_ADMIN).asRuntimeException());
    }
}
