/** PipelineFailure is what the stand-in error step throws, as Jenkins fails the build. */
class PipelineFailure extends RuntimeException {
    PipelineFailure(String msg) {
        super(msg)
    }
}
