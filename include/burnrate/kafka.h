/*
 * Kafka clients for run and replay: configuration built from the burnrate
 * config (every librdkafka property passes through), and the producer that
 * publishes alerts and dead letters with their headers.
 *
 * @locality the thread that runs the pipeline, except where noted.
 */
#ifndef BURNRATE_KAFKA_H
#define BURNRATE_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "burnrate/alert.h"
#include "burnrate/buf.h"
#include "burnrate/config.h"
#include "burnrate/err.h"
#include "burnrate/log.h"
#include "burnrate/outputs.h"

/** Dead-letter payloads larger than this are cut (Kafka's default
 *  message.max.bytes is 1 MB) and carry burnrate.truncated. */
#define BR_KAFKA_DLQ_MAX_BYTES 900000

typedef enum { BR_KAFKA_CONSUMER, BR_KAFKA_PRODUCER } br_kafka_role_t;

/**
 * @brief A client configuration: burnrate's defaults first
 *        (reconnect.backoff.max.ms=1000, and those of the role),
 *        then kafka.properties, then consumer_/producer_properties, then
 *        brokers (when non-NULL, it overrides kafka.brokers). Consumer
 *        defaults: group.id from the config, auto.offset.reset=earliest;
 *        queued.max.messages.kbytes=BR_KAFKA_PREFETCH_KB (partitions are
 *        read from their own queues, where this bound applies to each);
 *        enable.auto.offset.store=false and enable.auto.commit=false are
 *        forced last. Producer defaults: enable.idempotence=true, acks=all,
 *        message.timeout.ms=0 (retry until delivered). librdkafka's own log lines go
 *        through br_log().
 * @returns a new conf the caller hands to rd_kafka_new() or destroys, or NULL
 *          with errstr naming every property that was refused, one a line:
 *          "FILE:LINE: kafka.properties.KEY: librdkafka's reason" (a secret
 *          value, or one from ${...}, is never quoted).
 */
rd_kafka_conf_t *br_kafka_conf_new(const br_config_t *conf,
                                   br_kafka_role_t role, const char *brokers,
                                   char *errstr, size_t errstr_size);

/**
 * @brief Build the consumer's and the producer's configuration exactly as
 *        `run` does (br_kafka_conf_new()), without creating a client or
 *        touching the network: what librdkafka would refuse at start-up,
 *        check-config refuses too.
 * @returns BR_ERR_OK, or BR_ERR_CONFIG with every refused property in
 *          errstr, one a line, each once.
 */
br_err_t br_kafka_check_config(const br_config_t *conf, char *errstr,
                               size_t errstr_size);

/** @brief rd_kafka_conf_set() with an error that names key (and never a
 *         secret value). */
br_err_t br_kafka_conf_set(rd_kafka_conf_t *kconf, const char *key,
                           const char *value, char *errstr,
                           size_t errstr_size);

/**
 * @brief The topic -> input map: each topic of each input, in config order.
 * @returns BR_ERR_OK, or BR_ERR_CONFIG when a topic is listed by two inputs
 *          or no input has a topic.
 */
/** Prefetch bound per partition unless the config sets
 *  queued.max.messages.kbytes: with partition queues split off the
 *  consumer queue, librdkafka applies it to each partition's queue (one
 *  fetch of up to max.partition.fetch.bytes may come on top). */
#define BR_KAFKA_PREFETCH_KB "8192"

/**
 * @brief Split one partition's queue off the consumer queue, so that the
 *        caller pops that partition alone (the event-time merge). Call it
 *        before the partition is assigned: librdkafka then leaves the
 *        queue where the application put it (it does not forward it to the
 *        consumer queue at fetch start).
 * @param wake_fd non-blocking descriptor that gets a byte when the queue
 *        goes from empty to non-empty (br_kafka_wake_new()), or -1.
 * @returns a queue the caller destroys with rd_kafka_queue_destroy(), or
 *          NULL for an unknown partition.
 */
rd_kafka_queue_t *br_kafka_partition_queue(rd_kafka_t *rk, const char *topic,
                                           int32_t partition, int wake_fd);

/** @brief A non-blocking pipe for br_kafka_partition_queue()'s wake-ups:
 *         fds[0] to wait on, fds[1] for librdkafka to write. @returns 0 or -1. */
int br_kafka_wake_new(int fds[2]);

/** @brief Wait up to timeout_ms for a byte on fd, then drain it. */
void br_kafka_wake_wait(int fd, int timeout_ms);

br_err_t br_kafka_check_topics(const br_config_t *conf, char *errstr,
                               size_t errstr_size);

/** @returns the index of the input that reads topic, or -1. */
int br_kafka_topic_input(const br_config_t *conf, const char *topic);

typedef struct br_kafka_out br_kafka_out_t;

/** Delivery counters of the alert/dead-letter producer. */
typedef struct br_kafka_out_stats {
    uint64_t alerts_sent;        /* alerts handed to librdkafka */
    uint64_t dead_letters_sent;  /* dead letters handed to librdkafka */
    uint64_t delivered;          /* acknowledged by the broker */
    uint64_t failed;             /* delivery reports with an error */
} br_kafka_out_stats_t;

/**
 * @brief Create the producer for kafka.alerts_topic and
 *        kafka.dead_letter_topic.
 * @param conf borrowed; must outlive the producer.
 * @param brokers overrides kafka.brokers when non-NULL.
 * @param rl borrowed rate limiter for delivery-failure lines; must outlive
 *        the producer.
 * @returns a new producer the caller destroys, or NULL with errstr set.
 */
br_kafka_out_t *br_kafka_out_new(const br_config_t *conf, const char *brokers,
                                 br_ratelimit_t *rl, char *errstr,
                                 size_t errstr_size);

/** @brief Point the producer at another config whose kafka section is the
 *         same (a reload): conf borrowed, must outlive the producer. */
void br_kafka_out_set_conf(br_kafka_out_t *out, const br_config_t *conf);

/** @brief Destroy without flushing (flush first with br_kafka_out_flush()). */
void br_kafka_out_destroy(br_kafka_out_t *out);

/**
 * @brief From now on publish alerts as Avro datums of schema_json in the
 *        Confluent framing (kafka.alerts_format avro-confluent), under the
 *        id set with br_kafka_out_set_alert_schema_id(). The schema is
 *        checked first with example alerts that use every field.
 * @returns BR_ERR_OK, or BR_ERR_CONFIG with errstr (not an Avro schema, or
 *          one that does not take burnrate's alerts, naming the field).
 */
br_err_t br_kafka_out_use_avro(br_kafka_out_t *out, const char *schema_json,
                               char *errstr, size_t errstr_size);

/** @brief The schema id Avro alerts are framed with. */
void br_kafka_out_set_alert_schema_id(br_kafka_out_t *out, uint32_t id);

/**
 * @brief Publish one alert: key = id, value = br_alert_to_json() (or its
 *        Avro form after br_kafka_out_use_avro()), headers
 *        burnrate.type, burnrate.status, burnrate.revision. Waits (serving
 *        delivery reports) while the local queue is full.
 * @param input_names borrowed (br_pipeline_input_names()).
 * @returns BR_ERR_OK; BR_ERR_KAFKA when librdkafka refused the message;
 *          BR_ERR_TYPE when the alert does not fit the Avro alert schema
 *          (br_kafka_out_use_avro() checks it with example alerts).
 */
br_err_t br_kafka_out_alert(br_kafka_out_t *out, const br_alert_t *alert,
                            const char **input_names, int64_t emitted_at_ms,
                            char *errstr, size_t errstr_size);

/**
 * @brief Publish one dead letter: key = the original key, value = the
 *        original payload (cut to BR_KAFKA_DLQ_MAX_BYTES with header
 *        burnrate.truncated), headers burnrate.reason, burnrate.detail,
 *        burnrate.topic, burnrate.partition, burnrate.offset, burnrate.input.
 * @returns BR_ERR_OK, or BR_ERR_KAFKA when librdkafka refused the message.
 */
br_err_t br_kafka_out_dead_letter(br_kafka_out_t *out,
                                  const br_origin_t *origin,
                                  const char *input_name, const void *key,
                                  size_t key_len, const void *payload,
                                  size_t len, br_err_t reason,
                                  const char *detail, char *errstr,
                                  size_t errstr_size);

/**
 * @returns the producer as one of the outputs (outputs.h): alerts by
 *          br_kafka_out_alert(), dead letters by br_kafka_out_dead_letter();
 *          out is borrowed and must outlive the list.
 */
br_output_t br_kafka_output(br_kafka_out_t *out);

/** @brief Serve delivery reports and errors without blocking. */
void br_kafka_out_poll(br_kafka_out_t *out, int timeout_ms);

/** @brief Wait up to timeout_ms for every message to be delivered.
 *  @returns the messages still undelivered. */
int br_kafka_out_flush(br_kafka_out_t *out, int timeout_ms);

void br_kafka_out_stats(const br_kafka_out_t *out, br_kafka_out_stats_t *stats);

/** @returns the producer handle (borrowed), e.g. for rd_kafka_fatal_error(). */
rd_kafka_t *br_kafka_out_handle(br_kafka_out_t *out);

/** @returns true once a fatal error was raised on the producer; errstr
 *           gets its text. */
bool br_kafka_out_fatal(br_kafka_out_t *out, char *errstr, size_t errstr_size);

#endif
