"""The voxprint gRPC service: job store, pipeline, backends and the server process."""
