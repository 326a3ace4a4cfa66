package dev.bourne.appliance.ca.journal;

import java.util.Optional;

/**
 * Where the CA persists its local authorities. Today a file under {@code data_dir} ({@link FileCaJournal}); the
 * datastore will implement it too. Implementations replace the whole content atomically: a reader sees the old
 * content or the new one, never a mix.
 */
public interface CaJournal {

    /** The saved content, or empty when nothing was ever saved. A damaged journal is an error, never "empty". */
    Optional<JournalContent> load() throws JournalException;

    /** Replaces the saved content. */
    void save(JournalContent content) throws JournalException;
}
