CREATE TABLE "sweep_clock" (
	"id" integer PRIMARY KEY NOT NULL,
	"last_sweep_at" timestamp with time zone NOT NULL,
	"sweeping_since" timestamp with time zone NOT NULL
);
