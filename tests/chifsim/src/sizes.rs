//! The size queries, answering what the real library answers (fixtures/chif/).

use std::ffi::c_int;

use crate::layout::*;

macro_rules! size_fns {
    ($($name:ident = $value:expr;)*) => {
        $(#[no_mangle] pub extern "C" fn $name() -> c_int { $value as c_int })*
    };
}

size_fns! {
    get_max_buffer_size = MAX_BUFFER;
    max_read_size = MAX_READ;
    max_write_size = MAX_WRITE;
    size_of_restImmediateRequest = REST_IMMEDIATE_REQ;
    size_of_restBlobRequest = REST_BLOB_REQ;
    size_of_restResponseFixed = REST_RESPONSE_FIXED;
    size_of_restResponse = REST_RESPONSE;
    size_of_responseHeaderBlob = RESPONSE_HEADER_BLOB;
    size_of_createRequest = CREATE_REQ;
    size_of_createResponse = CREATE_RSP;
    size_of_writeRequest = WRITE_REQ;
    size_of_writeResponse = WRITE_RSP;
    size_of_readRequest = READ_REQ;
    size_of_readResponse = READ_RSP;
    size_of_infoRequest = INFO_REQ;
    size_of_infoResponse = INFO_RSP;
    size_of_deleteRequest = DELETE_REQ;
    size_of_deleteResponse = DELETE_RSP;
    size_of_finalizeRequest = FINALIZE_REQ;
    size_of_finalizeResponse = FINALIZE_RSP;
    size_of_listRequest = LIST_REQ;
    size_of_listResponse = LIST_RSP;
    size_of_listResponseFixed = LIST_RSP_FIXED;
    size_of_chifCredentialsBuffer = CREDENTIALS_BUFFER;
    size_of_securityStateRequest = SECURITY_STATE_REQ;
    size_of_securityStateResponse = SECURITY_STATE_RSP;
}
