-- Stands for a migration a future Bourne applied; tests apply it to check that this build refuses the database.
CREATE TABLE from_a_newer_bourne (id INTEGER PRIMARY KEY);
